/* The VT-x log-dirty backends' parts (kernel/vmm/dirty_ops.h): Page-Modification Logging, and the EPT flush. */
#ifndef HV_KERNEL_ARCH_X86_VMX_DIRTY_VMX_H
#define HV_KERNEL_ARCH_X86_VMX_DIRTY_VMX_H

struct vcpu;
struct vm;

/* A page-modification log per vCPU, kept for later starts. */
int dirty_pml_prepare(struct vm *vm);

/* Gives v's log back to the frame pool (the vCPU goes); nothing if it has none. */
void dirty_pml_release(struct vcpu *v);

/* EPT pointer with A/D flags and PML on in every vCPU's VMCS; on failure every VMCS is as before. */
int dirty_pml_start(struct vm *vm);

/* PML off in every vCPU's VMCS, each log drained into the bitmap first; HV_EIO if a VMCS failed. */
int dirty_pml_stop(struct vm *vm);

/* Every vCPU's log drained into the bitmap. */
int dirty_pml_collect(struct vm *vm);

/* INVEPT of the VM's EPT. */
int dirty_vmx_flush(struct vm *vm);

#endif
