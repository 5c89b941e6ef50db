/* Minimal Cortex-M4F startup for QEMU mps2-an386: vector table, .data/.bss, FPU, main, exit. */
#include <stdint.h>
#include <string.h>

extern uint32_t __stack_top, __data_load, __data_start, __data_end, __bss_start__, __bss_end__;
extern int main(void);
extern void initialise_monitor_handles(void);
void Reset_Handler(void);
void fault(void);

/* Ends the QEMU session: semihosting SYS_EXIT with "application exit" (status 0) or a
 * run-time error (status 1). */
void semihosting_exit(int success)
{
    register uint32_t r0 __asm__("r0") = 0x18;
    register uint32_t r1 __asm__("r1") = success ? 0x20026u : 0x20023u;
    __asm__ volatile("bkpt 0xab" : : "r"(r0), "r"(r1) : "memory");
    for (;;) {
    }
}

/* The exit newlib calls (never returns). */
void _exit(int status)
{
    semihosting_exit(status == 0);
}

void fault(void)
{
    semihosting_exit(0);
}

#define V(f) ((uintptr_t)(f))
__attribute__((section(".vectors"), used)) static const uintptr_t vectors[16] = {
    V(&__stack_top), V(Reset_Handler), V(fault), V(fault), V(fault), V(fault), V(fault), 0, 0, 0,
    0, V(fault), V(fault), 0, V(fault), V(fault),
};

void Reset_Handler(void)
{
    /* Full access to CP10/CP11 (the FPU) before any floating-point instruction. */
    volatile uint32_t *cpacr = (volatile uint32_t *)0xE000ED88u;
    *cpacr |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    memcpy(&__data_start, &__data_load, (size_t)((char *)&__data_end - (char *)&__data_start));
    memset(&__bss_start__, 0, (size_t)((char *)&__bss_end__ - (char *)&__bss_start__));
    initialise_monitor_handles();
    semihosting_exit(main() == 0);
}
