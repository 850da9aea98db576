// SPDX-License-Identifier: MIT
// vireo-kmod-check: the installer's eyes on kernel modules, through libkmod (the
// library modprobe itself uses), so the answers are the kernel's and depmod's, not a
// guess from file names. For each module NAME it prints one line
//     NAME STATE [PATH]
// STATE is "builtin", "live" (loaded), "loadable" (in the module tree, not loaded) or
// "missing". --load inserts each module that is not live (with its dependencies,
// honouring blacklists like modprobe); --unload removes each one that is live.
// Exit status: 0 when every module is builtin/live/loadable (after --load: builtin or
// live; after --unload: not live), 1 otherwise, 2 on a usage or libkmod error.
//
//   vireo-kmod-check [--load|--unload] [--kver KVER] NAME...
#include <errno.h>
#include <libkmod.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

enum action { ACT_NONE, ACT_LOAD, ACT_UNLOAD };

static void usage(FILE *out)
{
	fputs("usage: vireo-kmod-check [--load|--unload] [--kver KVER] NAME...\n", out);
}

// The state of one module as libkmod sees it.
static const char *module_state(struct kmod_module *mod)
{
	switch (kmod_module_get_initstate(mod)) {
	case KMOD_MODULE_BUILTIN:
		return "builtin";
	case KMOD_MODULE_LIVE:
	case KMOD_MODULE_COMING:
		return "live";
	case KMOD_MODULE_GOING:
		return "going";
	default:
		// Not in /sys/module: it is loadable if depmod put it in the tree.
		return kmod_module_get_path(mod) ? "loadable" : "missing";
	}
}

// Looks NAME up (a name or an alias); NULL and a message when nothing matches.
static struct kmod_module *lookup(struct kmod_ctx *ctx, const char *name)
{
	struct kmod_list *list = NULL;
	struct kmod_module *mod;
	int err = kmod_module_new_from_lookup(ctx, name, &list);

	if (err < 0 || !list) {
		// Builtin modules of some kernels have no alias entry: ask by name too.
		if (kmod_module_new_from_name(ctx, name, &mod) == 0)
			return mod;
		return NULL;
	}
	mod = kmod_module_ref(kmod_module_get_module(list));
	kmod_module_unref_list(list);
	return mod;
}

static int act(struct kmod_module *mod, enum action action)
{
	const char *state = module_state(mod);

	if (action == ACT_LOAD && strcmp(state, "loadable") == 0)
		return kmod_module_probe_insert_module(mod, KMOD_PROBE_APPLY_BLACKLIST, NULL, NULL,
						       NULL, NULL);
	if (action == ACT_UNLOAD && strcmp(state, "live") == 0)
		return kmod_module_remove_module(mod, 0);
	return 0;
}

int main(int argc, char **argv)
{
	enum action action = ACT_NONE;
	const char *kver = NULL;
	char dir[512];
	struct utsname uts;
	int i, bad = 0;

	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--load") == 0) {
			action = ACT_LOAD;
		} else if (strcmp(argv[i], "--unload") == 0) {
			action = ACT_UNLOAD;
		} else if (strcmp(argv[i], "--kver") == 0 && i + 1 < argc) {
			kver = argv[++i];
		} else if (strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (i == argc) {
		usage(stderr);
		return 2;
	}
	if (!kver) {
		if (uname(&uts) != 0) {
			perror("vireo-kmod-check: uname");
			return 2;
		}
		kver = uts.release;
	}
	// A release name is one path component: no way out of /lib/modules.
	if (strchr(kver, '/') || strcmp(kver, "..") == 0 ||
	    snprintf(dir, sizeof(dir), "/lib/modules/%s", kver) >= (int)sizeof(dir)) {
		fprintf(stderr, "vireo-kmod-check: bad kernel release '%s'\n", kver);
		return 2;
	}

	struct kmod_ctx *ctx = kmod_new(dir, NULL);
	if (!ctx || kmod_load_resources(ctx) < 0) {
		fprintf(stderr, "vireo-kmod-check: cannot read the module index of %s\n", dir);
		kmod_unref(ctx);
		return 2;
	}
	for (; i < argc; i++) {
		struct kmod_module *mod = lookup(ctx, argv[i]);

		if (!mod) {
			printf("%s missing\n", argv[i]);
			bad = 1;
			continue;
		}
		int err = act(mod, action);
		const char *state = module_state(mod);
		const char *path = kmod_module_get_path(mod);

		if (err < 0)
			fprintf(stderr, "vireo-kmod-check: %s %s: %s\n", argv[i],
				action == ACT_LOAD ? "load" : "unload", strerror(-err));
		printf("%s %s%s%s\n", argv[i], state, path ? " " : "", path ? path : "");
		if (strcmp(state, "missing") == 0 || err < 0 ||
		    (action == ACT_LOAD && strcmp(state, "loadable") == 0) ||
		    (action == ACT_UNLOAD && strcmp(state, "live") == 0))
			bad = 1;
		kmod_module_unref(mod);
	}
	kmod_unref(ctx);
	return bad;
}
