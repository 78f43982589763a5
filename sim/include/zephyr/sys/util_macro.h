/* SPDX-License-Identifier: Apache-2.0 */
/*
 * IS_ENABLED, from Zephyr's <zephyr/sys/util_macro.h>, for code built on
 * the kheap simulator.
 */
#ifndef ZEPHYR_SYS_UTIL_MACRO_H
#define ZEPHYR_SYS_UTIL_MACRO_H

#ifdef __cplusplus
extern "C" {
#endif

/*
 * IS_ENABLED(CONFIG_FOO): the integer constant 1 if CONFIG_FOO is defined
 * as 1 (a Kconfig "y"), else 0 (undefined, or any other value), usable in
 * #if and in C expressions alike.
 *
 * How: the argument is expanded, then pasted onto Z_KHEAP_ONE_; only
 * Z_KHEAP_ONE_1 is a macro, and it expands to a comma, which shifts the
 * 1 into the position that Z_KHEAP_SECOND picks; any other paste is a
 * single unknown token and the 0 stays there.
 */
#ifndef IS_ENABLED
#define IS_ENABLED(config_macro) Z_KHEAP_IS_ONE(config_macro)
#endif
#define Z_KHEAP_IS_ONE(value) Z_KHEAP_IS_ONE_PASTED(Z_KHEAP_ONE_##value)
#define Z_KHEAP_ONE_1 ,
#define Z_KHEAP_IS_ONE_PASTED(maybe_comma) Z_KHEAP_SECOND(maybe_comma 1, 0, 0)
#define Z_KHEAP_SECOND(ignored, value, ...) value

#ifdef __cplusplus
}
#endif

#endif /* ZEPHYR_SYS_UTIL_MACRO_H */
