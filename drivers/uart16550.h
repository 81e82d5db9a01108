/* The 16550 UART's registers, as offsets from its I/O base (COM1 = 0x3f8). */
#ifndef HV_DRIVERS_UART16550_H
#define HV_DRIVERS_UART16550_H

#define COM1_BASE 0x3f8
#define UART_REG_COUNT 8

#define UART_THR 0 /* transmit holding (write, DLAB=0) */
#define UART_RBR 0 /* receive buffer (read, DLAB=0) */
#define UART_DLL 0 /* divisor latch low (DLAB=1) */
#define UART_IER 1 /* interrupt enable (DLAB=0) */
#define UART_DLM 1 /* divisor latch high (DLAB=1) */
#define UART_IIR 2 /* interrupt identification (read) */
#define UART_FCR 2 /* FIFO control (write) */
#define UART_LCR 3 /* line control */
#define UART_MCR 4 /* modem control */
#define UART_LSR 5 /* line status */
#define UART_MSR 6 /* modem status */
#define UART_SCR 7 /* scratch */

#define UART_IER_RDI 0x01 /* receive data available */
#define UART_IER_THRI 0x02 /* transmit holding register empty */
#define UART_IER_MASK 0x0f
#define UART_IIR_THRI 0x02
#define UART_IIR_RDI 0x04
#define UART_IIR_FIFO_ON 0xc0
#define UART_FCR_ENABLE 0x01
#define UART_FCR_CLEAR_RX 0x02
#define UART_MCR_DTR 0x01
#define UART_MCR_RTS 0x02
#define UART_MCR_OUT1 0x04
#define UART_MCR_OUT2 0x08 /* on a PC, gates the UART's interrupt line */
#define UART_MCR_LOOP 0x10
#define UART_MCR_MASK 0x1f
#define UART_MSR_CTS 0x10
#define UART_MSR_DSR 0x20
#define UART_MSR_RI 0x40
#define UART_MSR_DCD 0x80
#define UART_LCR_8N1 0x03
#define UART_LCR_DLAB 0x80
#define UART_FCR_ENABLE_CLEAR 0x07
#define UART_MCR_DTR_RTS_OUT2 0x0b
#define UART_LSR_DATA_READY 0x01
#define UART_LSR_THR_EMPTY 0x20
#define UART_LSR_TX_IDLE 0x40
#define UART_IIR_NO_INT 0x01

#define UART_CLOCK_HZ 115200

#endif
