/* SPDX-License-Identifier: BSD-3-Clause */
/* netns.c - network namespace switching (see netns.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "netns.h"

int netns_current(void)
{
	return open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
}

int netns_switch(int handle, char *err, size_t errlen)
{
	if (setns(handle, CLONE_NEWNET) < 0) {
		snprintf(err, errlen, "cannot switch network namespace: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int netns_enter(const char *name, char *err, size_t errlen)
{
	char path[128];
	snprintf(path, sizeof(path), "/var/run/netns/%s", name);
	int target = open(path, O_RDONLY | O_CLOEXEC);
	if (target < 0) {
		snprintf(err, errlen, "network namespace %s: %s", name, strerror(errno));
		return NETNS_NONE;
	}
	int home = netns_current();
	if (home < 0) {
		snprintf(err, errlen, "cannot open this thread's network namespace: %s",
			 strerror(errno));
		close(target);
		return NETNS_NONE;
	}
	int ret = netns_switch(target, err, errlen);
	close(target);
	if (ret < 0) {
		close(home);
		return NETNS_NONE;
	}
	return home;
}

void netns_close(int handle)
{
	if (handle >= 0)
		close(handle);
}
