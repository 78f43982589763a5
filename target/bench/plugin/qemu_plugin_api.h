/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The part of QEMU's TCG plugin C API that kheapcount uses, declared by
 * us from QEMU's documentation of the interface (Debian ships no
 * qemu-plugin.h, and we do not copy QEMU's header).
 *
 * What the interface is: QEMU dlopen()s the plugin, checks the int it
 * exports as `qemu_plugin_version` against the range of API versions it
 * supports, then calls `qemu_plugin_install`. Everything else is
 * functions QEMU itself exports, which the plugin calls; they resolve
 * against the QEMU executable when it loads the shared object, so the
 * plugin links against nothing.
 *
 * API version: QEMU 7.2 accepts versions 0..1 (found by loading the
 * plugin with other values: it names the accepted range when it refuses
 * one). Version 1 is the one whose functions are listed here; later
 * QEMU releases renamed or removed some of them (qemu_plugin_n_vcpus,
 * the non-per-vCPU inline ops), so a newer QEMU may refuse this plugin.
 */
#ifndef KHEAP_QEMU_PLUGIN_API_H
#define KHEAP_QEMU_PLUGIN_API_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KHEAP_QEMU_PLUGIN_API_VERSION 1

/* What a plugin exports: visible although we build with hidden
 * visibility, so that nothing else leaks into QEMU's symbol space. */
#define KHEAP_PLUGIN_EXPORT __attribute__((visibility("default")))

/* QEMU's handle for this plugin, passed back to the register calls. */
typedef uint64_t qemu_plugin_id_t;

/* Opaque: valid only inside the translation callback that received
 * them (the addresses and counts read from them must be copied). */
struct qemu_plugin_tb;
struct qemu_plugin_insn;

/*
 * What QEMU tells the plugin at install time. Only the leading members
 * are declared: QEMU passes a pointer to its own object and the plugin
 * reads these fields through it, never copies or allocates one, so the
 * members after them (the system-emulation vCPU counts) can stay
 * undeclared.
 */
struct qemu_plugin_info {
	const char *target_name;
	struct {
		int min;
		int cur;
	} version;
	bool system_emulation;
};

/* Whether a callback may read or write guest registers. We need neither,
 * and saying so lets QEMU skip the register sync around the call. */
enum qemu_plugin_cb_flags {
	QEMU_PLUGIN_CB_NO_REGS = 0,
	QEMU_PLUGIN_CB_R_REGS = 1,
	QEMU_PLUGIN_CB_RW_REGS = 2,
};

/* Inline operations: code QEMU emits into the translated block itself,
 * with no call into the plugin. Version 1 has one. */
enum qemu_plugin_op {
	QEMU_PLUGIN_INLINE_ADD_U64 = 0,
};

typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index,
					    void *userdata);
typedef void (*qemu_plugin_tb_trans_cb_t)(qemu_plugin_id_t id,
					  struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);

/* ---- what the plugin defines ------------------------------------------ */

/* The API version the plugin was written for. */
extern KHEAP_PLUGIN_EXPORT int qemu_plugin_version;

/* Called once after loading, with the plugin's `name=value` arguments;
 * returns 0 to stay loaded, anything else makes QEMU refuse to start. */
KHEAP_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id,
					    const struct qemu_plugin_info *info,
					    int argc, char **argv);

/* ---- what QEMU provides --------------------------------------------- */

/* Call cb for every block QEMU translates, before it first runs. */
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id,
					   qemu_plugin_tb_trans_cb_t cb);

/* During translation: call cb each time the block starts executing. */
void qemu_plugin_register_vcpu_tb_exec_cb(struct qemu_plugin_tb *tb,
					  qemu_plugin_vcpu_udata_cb_t cb,
					  enum qemu_plugin_cb_flags flags,
					  void *userdata);

/* During translation: call cb each time the instruction is about to
 * execute. */
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn,
					    qemu_plugin_vcpu_udata_cb_t cb,
					    enum qemu_plugin_cb_flags flags,
					    void *userdata);

/* During translation: apply op with imm to the uint64_t at ptr each time
 * the instruction is about to execute. */
void qemu_plugin_register_vcpu_insn_exec_inline(struct qemu_plugin_insn *insn,
						enum qemu_plugin_op op,
						void *ptr, uint64_t imm);

size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *
qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t index);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);

/* Call cb when QEMU exits (after the guest's semihosting exit too). */
void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id,
				    qemu_plugin_udata_cb_t cb, void *userdata);

/* Write to QEMU's log (shown with -d plugin; -D names a file). */
void qemu_plugin_outs(const char *string);

#endif /* KHEAP_QEMU_PLUGIN_API_H */
