/* SPDX-License-Identifier: BSD-3-Clause */
/* main.c - onvm-mgr: the per-host manager.  See mgr.h and mgr_args.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "mgr.h"

int main(int argc, char *argv[])
{
	static struct onvm_mgr mgr;
	setvbuf(stdout, NULL, _IOLBF, 0); /* logs and tests read it as it comes */
	onvm_log_init("onvm-mgr");	  /* the bus client's lines */
	int ret = mgr_init(&mgr, argc, argv);
	if (ret == 1)
		return 0; /* --help */
	if (ret < 0)
		return ret == -EINVAL ? 2 : 1;
	mgr_run(&mgr);
	mgr_shutdown(&mgr);
	return 0;
}
