#include "kernel/arch/x86/vmx/debug.h"

#include "kernel/arch/x86/hw/hwops.h"
#include "kernel/vmm/vm.h"

void vmx_debug_switch(struct vcpu_debug *save, const struct vcpu_debug *load)
{
	/* Writes to debug registers are slow; most guests never change them. */
	save->dr[0] = read_dr0();
	save->dr[1] = read_dr1();
	save->dr[2] = read_dr2();
	save->dr[3] = read_dr3();
	save->dr6 = read_dr6();
	if (load->dr[0] != save->dr[0])
		write_dr0(load->dr[0]);
	if (load->dr[1] != save->dr[1])
		write_dr1(load->dr[1]);
	if (load->dr[2] != save->dr[2])
		write_dr2(load->dr[2]);
	if (load->dr[3] != save->dr[3])
		write_dr3(load->dr[3]);
	if (load->dr6 != save->dr6)
		write_dr6(load->dr6);
}
