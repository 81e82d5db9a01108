"""String port I/O (INS and OUTS, with or without REP) is carried out for the guest, not a reason to stop it.

The test guest's strio mode (docs/test-guest.md) sends a line with one REP OUTSB, reads 100 bytes of the
UART's line status with REP INSB into a buffer that crosses a page, and 64 words backwards (DF set) with
REP INSW from a port no device claims, and checks every byte, and the bytes around each buffer.
"""


def test_string_io_is_emulated(run):
    b = run("vcpus=2 guest.mode=strio run_for=1500", timeout=90)
    assert b.index_of(r"\[vm0/vcpu0\] guest: strio out ok$") >= 0, b.serial
    # The UART's line status when idle: transmitter empty and idle (0x60), nothing received.
    assert b.index_of(r"\[vm0/vcpu0\] guest: strio in ok bad=0 lsr=0x60$") >= 0, b.serial
    assert not [m.group(0) for m in b.log_lines(level="E")], b.serial
    assert "string I/O" not in b.serial
