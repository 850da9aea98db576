// SPDX-License-Identifier: GPL-2.0
/*
 * vireo_balloon: takes memory from the guest's page allocator toward a target set by
 * the guest agent through /dev/vireo-balloon, in 2 MiB blocks when free ones exist
 * and in 4 KiB pages otherwise, and hands the guest-physical ranges it took to the
 * agent (read()) so the host can punch them out of guest RAM.
 *
 * Every page the balloon holds is in one of three states:
 *   unreported: taken, never read by the agent: may go back to the guest at any time;
 *   pending:    read by the agent in batch SEQ: the host may be punching it, so it
 *               stays out of the allocator until the agent acknowledges SEQ;
 *   acked:      the host is done with it: may go back (it reads as zeroes).
 * Deflation (a lower target, the shrinker, the OOM notifier, unloading) only ever
 * frees unreported and acked pages. ddk-docs/balloon.md documents the protocol.
 *
 * Pages are tracked through their own page->lru (they are ours, off every LRU) and
 * page->private (bit 0: a 2 MiB block; above it, the batch sequence number of a
 * reported page), so tracking needs no
 * allocation, which matters when the balloon deflates under memory pressure.
 */
#include <linux/fs.h>
#include <linux/gfp.h>
#include <linux/kernel.h>
#include <linux/list.h>
#include <linux/list_sort.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/oom.h>
#include <linux/pfn.h>
#include <linux/poll.h>
#include <linux/sched.h>
#include <linux/shrinker.h>
#include <linux/slab.h>
#include <linux/swap.h>
#include <linux/uaccess.h>
#include <linux/version.h>
#include <linux/vmalloc.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "vireo_balloon.h"

#define VB_HUGE_ORDER 9 /* 2 MiB with 4 KiB pages */
#define VB_HUGE_BYTES (PAGE_SIZE << VB_HUGE_ORDER)
/* Ranges one read() can return; a batch is built in a buffer allocated at load. */
#define VB_BATCH_MAX 4095
/* What one OOM notification gives back: enough to let the allocation through. */
#define VB_OOM_BYTES (16UL << 20)

/*
 * 2 MiB blocks: only what is free right now. No __GFP_DIRECT_RECLAIM, so no direct
 * reclaim and no direct compaction (costly orders compact only from direct reclaim),
 * and no __GFP_KSWAPD_RECLAIM, so kswapd/kcompactd are not woken to make blocks for
 * us; __GFP_NORETRY and __GFP_NOWARN make a miss cheap and silent; __GFP_NOMEMALLOC
 * keeps us out of the emergency reserves. Not __GFP_MOVABLE: balloon pages cannot
 * be migrated, so they must not sit in movable pageblocks.
 */
#define VB_GFP_HUGE \
	((GFP_HIGHUSER & ~__GFP_RECLAIM) | __GFP_NORETRY | __GFP_NOWARN | __GFP_NOMEMALLOC)
/*
 * 4 KiB pages: direct reclaim is allowed (clean page cache may go, as with
 * virtio_balloon), but __GFP_NORETRY fails the allocation instead of retrying hard
 * or ever invoking the OOM killer.
 */
#define VB_GFP_SMALL (GFP_HIGHUSER | __GFP_NORETRY | __GFP_NOWARN | __GFP_NOMEMALLOC)

enum vb_state { VB_UNREPORTED, VB_PENDING, VB_ACKED, VB_NSTATES };
enum vb_size { VB_SMALL, VB_HUGE, VB_NSIZES };

static const unsigned int vb_order[VB_NSIZES] = { 0, VB_HUGE_ORDER };

/**
 * struct vb - the balloon (one per guest)
 * @read_lock: one read() at a time: guards @batch; may be held across a page fault
 * @lock: guards everything below but @work, @wq; never held while allocating, so
 *        the OOM notifier may wait for it
 * @lists: held pages by state and size; pending lists are in batch order
 * @count: pages (or blocks) in each list
 * @target: bytes the agent asked for
 * @size: bytes held in all states
 * @seq: last batch sequence number handed out
 * @acked_seq: highest sequence number acknowledged
 * @shrunk: bytes given back under memory pressure
 * @failures: inflation stalls
 * @oom_shrunk: part of @shrunk the OOM notifier gave back
 * @stopping: unloading: the worker must not take more
 * @open: the device is open (one agent at a time)
 * @worker: the task running @work, so its own reclaim does not deflate
 * @batch: read()'s buffer
 * @work: inflates or deflates toward @target
 * @wq: readers waiting for unreported pages
 */
struct vb {
	struct mutex read_lock;
	struct mutex lock;
	struct list_head lists[VB_NSTATES][VB_NSIZES];
	u64 count[VB_NSTATES][VB_NSIZES];
	u64 target;
	u64 size;
	u64 seq;
	u64 acked_seq;
	u64 shrunk;
	u64 failures;
	u64 oom_shrunk;
	bool stopping;
	atomic_t open;
	struct task_struct *worker;
	void *batch;
	struct delayed_work work;
	wait_queue_head_t wq;
};

static struct vb vb;

static u64 vb_bytes(enum vb_size sz)
{
	return PAGE_SIZE << vb_order[sz];
}

static u64 vb_state_bytes(enum vb_state st)
{
	return vb.count[st][VB_SMALL] * vb_bytes(VB_SMALL) +
	       vb.count[st][VB_HUGE] * vb_bytes(VB_HUGE);
}

/* Takes one block or page; false when none is free. */
static bool vb_take_one(u64 missing)
{
	enum vb_size sz = VB_SMALL;
	struct page *page = NULL;

	if (missing >= VB_HUGE_BYTES) {
		page = alloc_pages(VB_GFP_HUGE, VB_HUGE_ORDER);
		if (page)
			sz = VB_HUGE;
	}
	if (!page)
		page = alloc_page(VB_GFP_SMALL);
	if (!page)
		return false;
	set_page_private(page, sz == VB_HUGE);
	adjust_managed_page_count(page, -(1L << vb_order[sz]));
	mutex_lock(&vb.lock);
	list_add_tail(&page->lru, &vb.lists[VB_UNREPORTED][sz]);
	vb.count[VB_UNREPORTED][sz]++;
	vb.size += vb_bytes(sz);
	mutex_unlock(&vb.lock);
	return true;
}

static void vb_free(struct page *page, enum vb_state st, enum vb_size sz)
{
	list_del(&page->lru);
	vb.count[st][sz]--;
	vb.size -= vb_bytes(sz);
	set_page_private(page, 0);
	adjust_managed_page_count(page, 1L << vb_order[sz]);
	__free_pages(page, vb_order[sz]);
}

/*
 * Gives back one releasable block or page (unreported ones first: the host never saw
 * them), preferring 2 MiB blocks when @excess covers one. Returns the bytes freed,
 * 0 when nothing is releasable. Caller holds the lock.
 */
static u64 vb_release_one(u64 excess)
{
	static const enum vb_state states[] = { VB_UNREPORTED, VB_ACKED };
	enum vb_size order[2] = { VB_SMALL, VB_HUGE };
	unsigned int i, j;

	if (excess >= VB_HUGE_BYTES) {
		order[0] = VB_HUGE;
		order[1] = VB_SMALL;
	}
	for (j = 0; j < 2; j++) {
		for (i = 0; i < ARRAY_SIZE(states); i++) {
			struct list_head *l = &vb.lists[states[i]][order[j]];

			if (!list_empty(l)) {
				vb_free(list_last_entry(l, struct page, lru), states[i], order[j]);
				return vb_bytes(order[j]);
			}
		}
	}
	return 0;
}

/* Deflates by up to @bytes under pressure, lowering the target so the worker does
 * not take the memory again. Returns bytes freed. Caller holds the lock. */
static u64 vb_release_pressure(u64 bytes)
{
	u64 freed = 0, n;

	while (freed < bytes && (n = vb_release_one(bytes - freed)))
		freed += n;
	if (freed) {
		vb.shrunk += freed;
		vb.target = min(vb.target, vb.size);
	}
	return freed;
}

static void vb_work_fn(struct work_struct *work)
{
	unsigned int n;

	WRITE_ONCE(vb.worker, current);
	for (n = 0;; n++) {
		unsigned int released = 0;
		u64 size, target;

		mutex_lock(&vb.lock);
		target = vb.stopping ? 0 : vb.target;
		/* Deflate in short lock holds so readers and the shrinker get in. */
		while (released < 64 && vb.size > target && vb_release_one(vb.size - target))
			released++;
		size = vb.size;
		mutex_unlock(&vb.lock);
		if (size > target) {
			if (released) {
				cond_resched();
				continue;
			}
			/* Only pending pages are left: the agent's ack will requeue us. */
			break;
		}
		if (size == target)
			break;
		if (!vb_take_one(target - size)) {
			mutex_lock(&vb.lock);
			vb.failures++;
			mutex_unlock(&vb.lock);
			/* Nothing free: try again later rather than pressing the guest. */
			queue_delayed_work(system_unbound_wq, &vb.work, HZ);
			break;
		}
		if (!(n % 64)) {
			wake_up_interruptible(&vb.wq);
			cond_resched();
		}
	}
	WRITE_ONCE(vb.worker, NULL);
	wake_up_interruptible(&vb.wq);
}

static int vb_cmp_pfn(void *priv, const struct list_head *a, const struct list_head *b)
{
	unsigned long pa = page_to_pfn(list_entry(a, struct page, lru));
	unsigned long pb = page_to_pfn(list_entry(b, struct page, lru));

	return pa < pb ? -1 : pa > pb;
}

/*
 * Builds the next batch from unreported pages: sorts them by address, merges
 * neighbours into ranges, and moves the pages it reported to pending under a new
 * sequence number. Pages beyond @max ranges stay unreported. Returns the byte size of
 * the batch in vb.batch, 0 if there is nothing to report. Caller holds the lock.
 */
static size_t vb_build_batch(unsigned int max)
{
	struct vireo_balloon_batch *hdr = vb.batch;
	struct vireo_balloon_range *r = (void *)(hdr + 1);
	struct list_head all, *pos, *next;
	unsigned int n = 0;
	u64 seq;

	if (!vb.count[VB_UNREPORTED][VB_SMALL] && !vb.count[VB_UNREPORTED][VB_HUGE])
		return 0;
	seq = vb.seq + 1;
	INIT_LIST_HEAD(&all);
	list_splice_init(&vb.lists[VB_UNREPORTED][VB_SMALL], &all);
	list_splice_init(&vb.lists[VB_UNREPORTED][VB_HUGE], &all);
	list_sort(NULL, &all, vb_cmp_pfn);
	list_for_each_safe(pos, next, &all)
	{
		struct page *page = list_entry(pos, struct page, lru);
		enum vb_size sz = page_private(page) & 1 ? VB_HUGE : VB_SMALL;
		u64 gpa = PFN_PHYS(page_to_pfn(page)), len = vb_bytes(sz);

		if (n && r[n - 1].gpa + r[n - 1].len == gpa) {
			r[n - 1].len += len;
		} else {
			if (n == max)
				break;
			r[n].gpa = gpa;
			r[n].len = len;
			n++;
		}
		list_move_tail(pos, &vb.lists[VB_PENDING][sz]);
		vb.count[VB_UNREPORTED][sz]--;
		vb.count[VB_PENDING][sz]++;
		/* Bit 0: size; the rest: the batch. */
		set_page_private(page, (unsigned long)(seq << 1) | (sz == VB_HUGE));
	}
	/* What did not fit goes back, still unreported. */
	list_for_each_safe(pos, next, &all)
	{
		struct page *page = list_entry(pos, struct page, lru);

		list_move_tail(
			pos, &vb.lists[VB_UNREPORTED][page_private(page) & 1 ? VB_HUGE : VB_SMALL]);
	}
	vb.seq = seq;
	hdr->seq = seq;
	hdr->count = n;
	hdr->reserved = 0;
	return sizeof(*hdr) + n * sizeof(*r);
}

/* Moves pending pages of batches up to @seq to @st. Caller holds the lock. */
static void vb_settle(u64 seq, enum vb_state st, bool only_seq)
{
	enum vb_size sz;

	for (sz = 0; sz < VB_NSIZES; sz++) {
		struct page *page, *tmp;

		list_for_each_entry_safe(page, tmp, &vb.lists[VB_PENDING][sz], lru)
		{
			u64 s = page_private(page) >> 1;

			if (only_seq ? s != seq : s > seq)
				continue;
			list_move_tail(&page->lru, &vb.lists[st][sz]);
			vb.count[VB_PENDING][sz]--;
			vb.count[st][sz]++;
		}
	}
}

static ssize_t vb_read(struct file *f, char __user *buf, size_t len, loff_t *off)
{
	unsigned int max;
	ssize_t ret;
	size_t n;
	u64 seq;

	if (len < sizeof(struct vireo_balloon_batch) + sizeof(struct vireo_balloon_range))
		return -EINVAL;
	max = min_t(size_t, VB_BATCH_MAX,
		    (len - sizeof(struct vireo_balloon_batch)) /
			    sizeof(struct vireo_balloon_range));
	if (mutex_lock_interruptible(&vb.read_lock))
		return -ERESTARTSYS;
	for (;;) {
		mutex_lock(&vb.lock);
		n = vb_build_batch(max);
		seq = vb.seq;
		mutex_unlock(&vb.lock);
		if (n)
			break;
		if (f->f_flags & O_NONBLOCK) {
			ret = -EAGAIN;
			goto out;
		}
		ret = wait_event_interruptible(vb.wq,
					       READ_ONCE(vb.count[VB_UNREPORTED][VB_SMALL]) ||
						       READ_ONCE(vb.count[VB_UNREPORTED][VB_HUGE]));
		if (ret)
			goto out;
	}
	/* Outside vb.lock: the copy may fault and reclaim, which may call us back. */
	if (copy_to_user(buf, vb.batch, n)) {
		/* The agent never saw this batch: its pages may go back freely. */
		mutex_lock(&vb.lock);
		vb_settle(seq, VB_UNREPORTED, true);
		mutex_unlock(&vb.lock);
		ret = -EFAULT;
		goto out;
	}
	ret = n;
out:
	mutex_unlock(&vb.read_lock);
	return ret;
}

static __poll_t vb_poll(struct file *f, poll_table *wait)
{
	poll_wait(f, &vb.wq, wait);
	if (READ_ONCE(vb.count[VB_UNREPORTED][VB_SMALL]) ||
	    READ_ONCE(vb.count[VB_UNREPORTED][VB_HUGE]))
		return EPOLLIN | EPOLLRDNORM;
	return 0;
}

static void vb_status(struct vireo_balloon_status *s)
{
	enum vb_state st;

	memset(s, 0, sizeof(*s));
	mutex_lock(&vb.lock);
	s->target = vb.target;
	s->size = vb.size;
	for (st = 0; st < VB_NSTATES; st++) {
		s->blocks_2m += vb.count[st][VB_HUGE];
		s->pages_4k += vb.count[st][VB_SMALL];
	}
	s->unreported = vb_state_bytes(VB_UNREPORTED);
	s->pending = vb_state_bytes(VB_PENDING);
	s->acked = vb_state_bytes(VB_ACKED);
	s->last_seq = vb.seq;
	s->acked_seq = vb.acked_seq;
	s->shrunk = vb.shrunk;
	s->alloc_failures = vb.failures;
	s->oom_shrunk = vb.oom_shrunk;
	mutex_unlock(&vb.lock);
}

static long vb_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;
	struct vireo_balloon_status s;
	u64 v;

	switch (cmd) {
	case VIREO_BALLOON_SET_TARGET:
		if (copy_from_user(&v, uarg, sizeof(v)))
			return -EFAULT;
		/* Whole pages, and never more than the guest has. */
		mutex_lock(&vb.lock);
		if (v & ~PAGE_MASK || v > ((u64)totalram_pages() << PAGE_SHIFT) + vb.size) {
			mutex_unlock(&vb.lock);
			return -EINVAL;
		}
		vb.target = v;
		mutex_unlock(&vb.lock);
		mod_delayed_work(system_unbound_wq, &vb.work, 0);
		return 0;
	case VIREO_BALLOON_ACK:
		if (copy_from_user(&v, uarg, sizeof(v)))
			return -EFAULT;
		mutex_lock(&vb.lock);
		if (v > vb.seq) {
			mutex_unlock(&vb.lock);
			return -EINVAL;
		}
		vb_settle(v, VB_ACKED, false);
		vb.acked_seq = max(vb.acked_seq, v);
		mutex_unlock(&vb.lock);
		/* Acked pages may be what a lower target was waiting for. */
		mod_delayed_work(system_unbound_wq, &vb.work, 0);
		return 0;
	case VIREO_BALLOON_STATUS:
		vb_status(&s);
		return copy_to_user(uarg, &s, sizeof(s)) ? -EFAULT : 0;
	}
	return -ENOTTY;
}

static int vb_open(struct inode *inode, struct file *f)
{
	if (atomic_cmpxchg(&vb.open, 0, 1))
		return -EBUSY;
	return nonseekable_open(inode, f);
}

static int vb_release(struct inode *inode, struct file *f)
{
	/* Pending pages stay pending: the host may still be punching them. */
	atomic_set(&vb.open, 0);
	return 0;
}

static const struct file_operations vb_fops = {
	.owner = THIS_MODULE,
	.open = vb_open,
	.release = vb_release,
	.read = vb_read,
	.poll = vb_poll,
	.unlocked_ioctl = vb_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
};

static ssize_t status_show(struct device *dev, struct device_attribute *attr, char *buf)
{
	struct vireo_balloon_status s;

	vb_status(&s);
	return sysfs_emit(buf,
			  "target %llu\nsize %llu\nblocks_2m %llu\npages_4k %llu\n"
			  "unreported %llu\npending %llu\nacked %llu\nlast_seq %llu\n"
			  "acked_seq %llu\nshrunk %llu\nalloc_failures %llu\noom_shrunk %llu\n",
			  s.target, s.size, s.blocks_2m, s.pages_4k, s.unreported, s.pending,
			  s.acked, s.last_seq, s.acked_seq, s.shrunk, s.alloc_failures,
			  s.oom_shrunk);
}
static DEVICE_ATTR_RO(status);

static struct attribute *vb_attrs[] = {
	&dev_attr_status.attr,
	NULL,
};
ATTRIBUTE_GROUPS(vb);

static struct miscdevice vb_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "vireo-balloon",
	.fops = &vb_fops,
	.groups = vb_groups,
	.mode = 0600,
};

/*
 * Memory pressure. Only reclaim that someone is waiting for (direct reclaim by any
 * task but our worker) deflates the balloon: kswapd's background reclaim would
 * otherwise undo every inflation that brings free memory near the watermarks.
 */
static bool vb_pressure_applies(void)
{
	return !current_is_kswapd() && current != READ_ONCE(vb.worker);
}

static unsigned long vb_shrink_count(struct shrinker *s, struct shrink_control *sc)
{
	u64 n;

	if (!vb_pressure_applies())
		return 0;
	/* An unlocked estimate is what shrinkers are asked for. */
	n = (READ_ONCE(vb.count[VB_UNREPORTED][VB_SMALL]) +
	     READ_ONCE(vb.count[VB_ACKED][VB_SMALL])) +
	    ((READ_ONCE(vb.count[VB_UNREPORTED][VB_HUGE]) + READ_ONCE(vb.count[VB_ACKED][VB_HUGE]))
	     << VB_HUGE_ORDER);
	return n ? n : SHRINK_EMPTY;
}

/*
 * Reclaim counts only what it sees reclaimed (LRU pages, and slab through
 * reclaim_state): without this, it goes on to ever lower priorities, each asking us
 * for more, and one direct reclaim of 32 pages empties the balloon.
 */
static void vb_account_reclaimed(unsigned long pages)
{
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 4, 0)
	mm_account_reclaimed_pages(pages);
#else
	if (current->reclaim_state)
		current->reclaim_state->reclaimed_slab += pages;
#endif
}

static unsigned long vb_shrink_scan(struct shrinker *s, struct shrink_control *sc)
{
	unsigned long freed;

	if (!vb_pressure_applies())
		return SHRINK_STOP;
	/* Never wait: the lock holder may be the task that is reclaiming. */
	if (!mutex_trylock(&vb.lock))
		return SHRINK_STOP;
	freed = vb_release_pressure((u64)sc->nr_to_scan << PAGE_SHIFT) >> PAGE_SHIFT;
	mutex_unlock(&vb.lock);
	if (!freed)
		return SHRINK_STOP;
	/* A 2 MiB block is 512 objects at once: say so, or reclaim asks again. */
	sc->nr_scanned = max_t(unsigned long, sc->nr_scanned, freed);
	vb_account_reclaimed(freed);
	return freed;
}

#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
static struct shrinker *vb_shrinker;

static int vb_shrinker_register(void)
{
	vb_shrinker = shrinker_alloc(0, "vireo-balloon");
	if (!vb_shrinker)
		return -ENOMEM;
	vb_shrinker->count_objects = vb_shrink_count;
	vb_shrinker->scan_objects = vb_shrink_scan;
	vb_shrinker->seeks = DEFAULT_SEEKS;
	shrinker_register(vb_shrinker);
	return 0;
}

static void vb_shrinker_unregister(void)
{
	shrinker_free(vb_shrinker);
}
#else
static struct shrinker vb_shrinker = {
	.count_objects = vb_shrink_count,
	.scan_objects = vb_shrink_scan,
	.seeks = DEFAULT_SEEKS,
};

static int vb_shrinker_register(void)
{
	return register_shrinker(&vb_shrinker, "vireo-balloon");
}

static void vb_shrinker_unregister(void)
{
	unregister_shrinker(&vb_shrinker);
}
#endif

/* The last line before an OOM kill: what we give back lets the allocation through. */
static int vb_oom_notify(struct notifier_block *nb, unsigned long unused, void *arg)
{
	unsigned long *freed = arg;
	u64 n;

	mutex_lock(&vb.lock);
	n = vb_release_pressure(VB_OOM_BYTES);
	vb.oom_shrunk += n;
	mutex_unlock(&vb.lock);
	*freed += n >> PAGE_SHIFT;
	return NOTIFY_OK;
}

static struct notifier_block vb_oom_nb = {
	.notifier_call = vb_oom_notify,
};

static int __init vb_init(void)
{
	unsigned int st, sz;
	int ret;

	mutex_init(&vb.read_lock);
	mutex_init(&vb.lock);
	for (st = 0; st < VB_NSTATES; st++)
		for (sz = 0; sz < VB_NSIZES; sz++)
			INIT_LIST_HEAD(&vb.lists[st][sz]);
	INIT_DELAYED_WORK(&vb.work, vb_work_fn);
	init_waitqueue_head(&vb.wq);
	vb.batch = kvmalloc(sizeof(struct vireo_balloon_batch) +
				    VB_BATCH_MAX * sizeof(struct vireo_balloon_range),
			    GFP_KERNEL);
	if (!vb.batch)
		return -ENOMEM;
	ret = vb_shrinker_register();
	if (ret)
		goto err_batch;
	ret = register_oom_notifier(&vb_oom_nb);
	if (ret)
		goto err_shrinker;
	ret = misc_register(&vb_misc);
	if (ret)
		goto err_oom;
	pr_info("vireo_balloon: ready\n");
	return 0;

err_oom:
	unregister_oom_notifier(&vb_oom_nb);
err_shrinker:
	vb_shrinker_unregister();
err_batch:
	kvfree(vb.batch);
	return ret;
}

static void __exit vb_exit(void)
{
	u64 left;

	misc_deregister(&vb_misc);
	unregister_oom_notifier(&vb_oom_nb);
	vb_shrinker_unregister();
	mutex_lock(&vb.lock);
	vb.stopping = true;
	mutex_unlock(&vb.lock);
	cancel_delayed_work_sync(&vb.work);
	mutex_lock(&vb.lock);
	while (vb_release_one(U64_MAX))
		;
	left = vb.size;
	mutex_unlock(&vb.lock);
	/* Pending pages may be under the host's punch: leaking them is the safe choice. */
	if (left)
		pr_warn("vireo_balloon: %llu bytes never acknowledged by the host stay out\n",
			left);
	kvfree(vb.batch);
	pr_info("vireo_balloon: unloaded\n");
}

module_init(vb_init);
module_exit(vb_exit);
MODULE_DESCRIPTION("Vireo memory balloon: gives guest memory back to the host");
MODULE_LICENSE("GPL");
