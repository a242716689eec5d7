/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * config_file.h - a program's options read from a JSON file (--config FILE).
 *
 * The file is one object whose keys are the program's long option names
 * (those of its getopt_long table) and whose values are what the option
 * takes on the command line:
 *   {"catalog": "/etc/onvm/catalog.json", "nf-cores": "2-5", "stats-period": 100,
 *    "quiet": true, "broker": "mqtts://broker:8883"}
 * A string or a number for an option with a value (an array of them
 * repeats the option), true or false for one without (false leaves it out).
 * A program may also take "eal", an array of strings: its EAL arguments.
 * Anything else is an error that names the file and the key: unknown keys,
 * duplicate keys, other types, "config", "help" and "version".
 *
 * The result is a command line ("--catalog=/etc/...", "--quiet") that goes
 * before the real one, so that flags given on the command line override the
 * file's (getopt keeps the last value).  Secrets stay out of it as they stay
 * out of command lines: options name the files that hold them.
 */
#ifndef ONVM_CONFIG_FILE_H
#define ONVM_CONFIG_FILE_H

#include <getopt.h>
#include <stddef.h>

/* Largest file read: a configuration, not a data set. */
#define CONFIG_FILE_MAX_BYTES (1u << 20)

/* An argument vector whose strings it owns. */
struct config_args {
	int argc;
	char **argv; /* argc entries and a NULL */
};

/*
 * Read path into options (one entry per option given) and, when eal is not
 * NULL, the "eal" array into eal (else "eal" is an unknown key).  options
 * is the program's getopt_long table.  Returns 0, or -1 with the reason in
 * err ("FILE: ..."); nothing is left allocated then.
 */
int config_file_load(const char *path, const struct option *options, struct config_args *out,
		     struct config_args *eal, char *err, size_t errlen);

void config_args_free(struct config_args *args);

/*
 * Where "--config FILE" or "--config=FILE" is among argv[first..argc):
 * the index of the option (its value is *path), or -1 if absent.  Only
 * the first is taken; a second one is an error (-2).
 */
int config_file_find(int argc, char *const argv[], int first, const char **path, int *width);

/*
 * A program's whole command line: with --config FILE among argv[1..argc),
 * argv[0], the file's options, then the rest of the command line (whose
 * options win, see above); without it, argv as it is.  The strings are
 * argv's and the file's, kept in out until config_merged_free().
 */
struct config_merged {
	int argc;
	char **argv;
	struct config_args file;
};

/* 0, or -1 with the reason in err ("--config FILE: ..."); nothing is left
 * allocated then. */
int config_file_merge(int argc, char **argv, const struct option *options,
		      struct config_merged *out, char *err, size_t errlen);

void config_merged_free(struct config_merged *merged);

#endif /* ONVM_CONFIG_FILE_H */
