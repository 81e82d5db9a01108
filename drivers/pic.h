/* The legacy 8259 PICs: remapped away from the exception vectors and masked. */
#ifndef HV_DRIVERS_PIC_H
#define HV_DRIVERS_PIC_H

#define PIC1_COMMAND 0x20
#define PIC1_DATA 0x21
#define PIC2_COMMAND 0xa0
#define PIC2_DATA 0xa1
#define PIC_ICW1_INIT_ICW4 0x11
#define PIC_ICW4_8086 0x01
#define PIC_CASCADE_IRQ 2
#define PIC_MASK_ALL 0xff

/* Remaps both PICs to vector_base.. and masks every line: the LAPIC is used instead. */
void pic_disable(unsigned vector_base);

#endif
