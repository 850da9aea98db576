// SPDX-License-Identifier: GPL-2.0
/*
 * vireo_hello: the smallest guest module Vireo builds. The lab loads it in every
 * supported kernel to prove that the top-level Kbuild, the kernel's headers and the
 * guest agree; it logs one line on load and one on unload so tests can see both.
 */
#include <linux/init.h>
#include <linux/module.h>
#include <linux/utsname.h>

static char *greeting = "hello";
module_param(greeting, charp, 0444);
MODULE_PARM_DESC(greeting, "Word logged on load and unload (default: hello)");

static int __init vireo_hello_init(void)
{
	pr_info("vireo_hello: %s from %s\n", greeting, init_utsname()->release);
	return 0;
}

static void __exit vireo_hello_exit(void)
{
	pr_info("vireo_hello: goodbye (%s)\n", greeting);
}

module_init(vireo_hello_init);
module_exit(vireo_hello_exit);

MODULE_DESCRIPTION("Vireo guest-tools build check: logs on load and unload");
MODULE_AUTHOR("The Vireo authors");
MODULE_LICENSE("GPL");
