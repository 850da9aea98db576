// SPDX-License-Identifier: MIT
/*
 * libvireo's network-class services (experimental): the instance handle's accessors
 * and the driver's notifications, passed on to whichever device model bound the
 * instance. Owns nothing of the data path; bursts are the device model's calls.
 */
#include "internal.h"

void vireo_net_rx_ready(struct vireo_net *net, unsigned int queue)
{
	if (net && net->rx_ready)
		net->rx_ready(net->core, queue);
}

void vireo_net_tx_ready(struct vireo_net *net, unsigned int queue)
{
	if (net && net->tx_ready)
		net->tx_ready(net->core, queue);
}

void vireo_net_link_changed(struct vireo_net *net)
{
	if (net && net->link_changed)
		net->link_changed(net->core);
}

void vireo_net_set_priv(struct vireo_net *net, void *priv)
{
	if (net)
		net->priv = priv;
}

void *vireo_net_priv(const struct vireo_net *net)
{
	return net ? net->priv : NULL;
}

const char *vireo_net_id(const struct vireo_net *net)
{
	return net && net->id ? net->id : "?";
}

struct vireo_loop *vireo_net_queue_loop(struct vireo_net *net, unsigned int queue)
{
	if (!net || !net->queue_loop)
		return NULL;
	return net->queue_loop(net->core, queue);
}
