// SPDX-License-Identifier: MIT
/* libvireo's ABI version, for drivers that check the running core at run time. */
#include <vireo/version.h>

uint32_t vireo_abi_version(void)
{
	return VIREO_ABI_CURRENT;
}
