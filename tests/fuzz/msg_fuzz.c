// SPDX-License-Identifier: MIT
/*
 * Fuzz target: vhost-user messages as a frontend sends them. The input is written
 * to one end of a socket pair and read back as messages until it runs out; each
 * message is checked against its request's rules. Nothing may crash, read out of
 * bounds or leak an fd.
 */
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include "vhost-user/msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum vu_msg_err why;
	struct vu_msg msg;
	int sv[2];

	if (size > 65536 || socketpair(AF_UNIX, SOCK_STREAM, 0, sv) < 0)
		return 0;
	/* The whole input fits the socket buffer; closing marks its end. */
	if (write(sv[0], data, size) != (ssize_t)size) {
		close(sv[0]);
		close(sv[1]);
		return 0;
	}
	close(sv[0]);
	while (vu_msg_recv(sv[1], &msg, &why) == 0) {
		(void)vu_msg_check(&msg, &why);
		(void)vu_request_name(msg.hdr.request);
		vu_msg_close_fds(&msg);
	}
	close(sv[1]);
	return 0;
}
