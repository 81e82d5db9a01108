/* Guest images into guest RAM: the flat test guest, or a Linux bzImage through its boot protocol. */
#include <string.h>
#include "kernel/arch/x86/time.h"
#include "kernel/core/linux_boot.h"
#include "kernel/lib/err.h"
#include "kernel/lib/log.h"
#include "kernel/vmm/vm.h"

#define FLAT_CODE_SEL 0x08
#define FLAT_DATA_SEL 0x10
#define FLAT_GDT_LIMIT 0xffff

static int load_flat(struct vm *vm, const struct vm_params *p, const void *image, uint64_t image_len)
{
	const struct hv_boot_params bp = {
		.magic = HV_BOOT_MAGIC,
		.version = HV_BOOT_VERSION,
		.ram_size = vm->ram_size,
		.tsc_hz = time_tsc_hz(),
		.vcpus = vm->vcpu_count,
		.vm_id = vm->id,
		.guest = p->guest,
	};
	int rc;

	if (image_len == 0 || image_len > vm->ram_size - HV_GUEST_LOAD_GPA) {
		log_err("vm", "vm%u: guest image of %llu bytes does not fit in RAM above %#x", vm->id,
			(unsigned long long)image_len, HV_GUEST_LOAD_GPA);
		return HV_ERANGE;
	}
	rc = vm_guest_write(vm, HV_GUEST_LOAD_GPA, image, image_len);
	if (!rc)
		rc = vm_guest_write(vm, HV_GUEST_BOOT_GPA, &bp, sizeof(bp));
	vm->boot = (struct vm_boot){
		.rip = HV_GUEST_LOAD_GPA,
		.rbx = HV_GUEST_BOOT_GPA,
		.gdt_limit = FLAT_GDT_LIMIT,
		.cs = FLAT_CODE_SEL,
		.ds = FLAT_DATA_SEL,
	};
	return rc;
}

static int load_linux(struct vm *vm, const struct vm_params *p, const uint8_t *image, uint64_t image_len)
{
	static uint8_t zero_page[LINUX_BP_SIZE];
	const char *cmdline = p->linux_cmdline ? p->linux_cmdline : "";
	size_t cmdline_len = strlen(cmdline);
	uint64_t gdt[LINUX_GDT_ENTRIES];
	struct linux_image k;
	struct linux_layout l;
	int rc;

	if (vm->vcpu_count != 1) {
		log_err("vm", "vm%u: a Linux guest runs on one vCPU (vcpus=1)", vm->id);
		return HV_EINVAL;
	}
	rc = linux_parse(image, image_len, &k);
	if (rc) {
		log_err("vm", "vm%u: the bzImage's setup header is unusable (boot protocol 2.10 or later needed)", vm->id);
		return rc;
	}
	rc = linux_plan(&k, vm->ram_size, p->initrd_len, cmdline_len, &l);
	if (rc) {
		log_err("vm", "vm%u: Linux (%llu bytes, needs %u MiB from %#llx) and its initrd (%llu bytes) do not fit "
			"in %llu MiB of RAM, or its command line is over %u bytes",
			vm->id, (unsigned long long)image_len, k.init_size >> 20, (unsigned long long)k.pref_address,
			(unsigned long long)p->initrd_len, (unsigned long long)(vm->ram_size >> 20), k.cmdline_size);
		return rc;
	}
	linux_boot_params(zero_page, image, &k, &l);
	linux_boot_gdt(gdt);
	rc = vm_guest_write(vm, l.kernel_gpa, image + k.setup_len, k.kernel_len);
	if (!rc)
		rc = vm_guest_write(vm, l.params_gpa, zero_page, sizeof(zero_page));
	if (!rc)
		rc = vm_guest_write(vm, l.cmdline_gpa, cmdline, cmdline_len + 1);
	if (!rc)
		rc = vm_guest_write(vm, l.gdt_gpa, gdt, sizeof(gdt));
	if (!rc && l.initrd_len)
		rc = vm_guest_write(vm, l.initrd_gpa, p->initrd, l.initrd_len);
	if (rc)
		return HV_TRACE(rc);
	/* The 32-bit entry: ESI points at the zero page, the GDT holds __BOOT_CS and __BOOT_DS. */
	vm->boot = (struct vm_boot){
		.rip = l.kernel_gpa,
		.rsi = l.params_gpa,
		.gdt_base = l.gdt_gpa,
		.gdt_limit = sizeof(gdt) - 1,
		.cs = LINUX_BOOT_CS,
		.ds = LINUX_BOOT_DS,
		.linux = true,
	};
	log_info("vm", "vm%u: Linux boot protocol %u.%02u, kernel %llu KiB at %#llx (runs from %#llx, %u MiB), "
		 "initrd %llu KiB at %#llx, command line \"%s\"",
		 vm->id, k.version >> 8, k.version & 0xff, (unsigned long long)(k.kernel_len >> 10),
		 (unsigned long long)l.kernel_gpa, (unsigned long long)k.pref_address, k.init_size >> 20,
		 (unsigned long long)(l.initrd_len >> 10), (unsigned long long)l.initrd_gpa, cmdline);
	return HV_OK;
}

int vm_load_image(struct vm *vm, const struct vm_params *p, const void *image, uint64_t image_len)
{
	if (linux_is_bzimage(image, image_len))
		return load_linux(vm, p, image, image_len);
	return load_flat(vm, p, image, image_len);
}
