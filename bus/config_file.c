/* SPDX-License-Identifier: BSD-3-Clause */
/* config_file.c - a program's options read from a JSON file (see config_file.h). */
#define _GNU_SOURCE /* asprintf */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "bus_err.h"
#include "config_file.h"

/* Keys no file may hold: they would not configure, they would act. */
static const char *const reserved_keys[] = {"config", "help", "version"};

static int is_reserved(const char *key)
{
	for (size_t i = 0; i < sizeof(reserved_keys) / sizeof(reserved_keys[0]); i++)
		if (strcmp(key, reserved_keys[i]) == 0)
			return 1;
	return 0;
}

static const struct option *find_option(const struct option *options, const char *key)
{
	for (const struct option *option = options; option->name; option++)
		if (strcmp(option->name, key) == 0)
			return option;
	return NULL;
}

static int push(struct config_args *args, char *text)
{
	if (text == NULL)
		return -1;
	char **grown = realloc(args->argv, (size_t)(args->argc + 2) * sizeof(*grown));
	if (grown == NULL) {
		free(text);
		return -1;
	}
	args->argv = grown;
	args->argv[args->argc++] = text;
	args->argv[args->argc] = NULL;
	return 0;
}

/* "--name=value" for a string or a number; NULL for another type. */
static char *option_text(const char *name, const json_t *value)
{
	char *text = NULL;
	int len = -1;
	if (json_is_string(value))
		len = asprintf(&text, "--%s=%s", name, json_string_value(value));
	else if (json_is_integer(value))
		len =
		    asprintf(&text, "--%s=%" JSON_INTEGER_FORMAT, name, json_integer_value(value));
	else if (json_is_real(value))
		len = asprintf(&text, "--%s=%.17g", name, json_real_value(value));
	else
		return NULL;
	return len < 0 ? NULL : text;
}

static int add_valued(struct config_args *out, const char *path, const char *key,
		      const json_t *value, char *err, size_t errlen)
{
	size_t count = json_is_array(value) ? json_array_size(value) : 1;
	if (json_is_array(value) && count == 0) {
		bus_set_err(err, errlen, "%s: \"%s\": an empty list", path, key);
		return -1;
	}
	for (size_t i = 0; i < count; i++) {
		const json_t *item = json_is_array(value) ? json_array_get(value, i) : value;
		if (!json_is_string(item) && !json_is_number(item)) {
			bus_set_err(err, errlen, "%s: \"%s\" takes a string or a number%s", path,
				    key,
				    json_is_array(value) ? " in its list" : " (or a list of them)");
			return -1;
		}
		if (json_is_string(item) && strlen(json_string_value(item)) == 0) {
			bus_set_err(err, errlen, "%s: \"%s\": an empty string", path, key);
			return -1;
		}
		if (push(out, option_text(key, item)) < 0) {
			bus_set_err(err, errlen, "%s: out of memory", path);
			return -1;
		}
	}
	return 0;
}

static int add_flag(struct config_args *out, const char *path, const char *key, const json_t *value,
		    char *err, size_t errlen)
{
	if (!json_is_boolean(value)) {
		bus_set_err(err, errlen, "%s: \"%s\" takes true or false", path, key);
		return -1;
	}
	if (json_is_false(value))
		return 0;
	char *text = NULL;
	if (asprintf(&text, "--%s", key) < 0 || push(out, text) < 0) {
		bus_set_err(err, errlen, "%s: out of memory", path);
		return -1;
	}
	return 0;
}

static int add_eal(struct config_args *eal, const char *path, const json_t *value, char *err,
		   size_t errlen)
{
	if (!json_is_array(value)) {
		bus_set_err(err, errlen, "%s: \"eal\" takes a list of strings", path);
		return -1;
	}
	size_t index;
	const json_t *item;
	json_array_foreach(value, index, item)
	{
		if (!json_is_string(item)) {
			bus_set_err(err, errlen, "%s: \"eal\" entry %zu is not a string", path,
				    index);
			return -1;
		}
		if (push(eal, strdup(json_string_value(item))) < 0) {
			bus_set_err(err, errlen, "%s: out of memory", path);
			return -1;
		}
	}
	return 0;
}

static json_t *read_object(const char *path, char *err, size_t errlen)
{
	FILE *file = fopen(path, "r");
	if (file == NULL) {
		bus_set_err(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return NULL;
	}
	char *text = malloc(CONFIG_FILE_MAX_BYTES + 1);
	size_t len = text ? fread(text, 1, CONFIG_FILE_MAX_BYTES + 1, file) : 0;
	int read_error = ferror(file);
	fclose(file);
	if (text == NULL || read_error || len > CONFIG_FILE_MAX_BYTES) {
		bus_set_err(err, errlen, "%s: %s", path,
			    text == NULL ? "out of memory"
			    : read_error ? "cannot read"
					 : "larger than 1 MiB");
		free(text);
		return NULL;
	}
	json_error_t error;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &error);
	free(text);
	if (root == NULL) {
		bus_set_err(err, errlen, "%s:%d:%d: %s", path, error.line, error.column,
			    error.text);
		return NULL;
	}
	if (!json_is_object(root)) {
		bus_set_err(err, errlen, "%s: not a JSON object", path);
		json_decref(root);
		return NULL;
	}
	return root;
}

int config_file_load(const char *path, const struct option *options, struct config_args *out,
		     struct config_args *eal, char *err, size_t errlen)
{
	*out = (struct config_args){0};
	if (eal)
		*eal = (struct config_args){0};
	json_t *root = read_object(path, err, errlen);
	if (root == NULL)
		return -1;
	const char *key;
	json_t *value;
	int ret = 0;
	json_object_foreach(root, key, value)
	{
		const struct option *option = find_option(options, key);
		if (eal && strcmp(key, "eal") == 0)
			ret = add_eal(eal, path, value, err, errlen);
		else if (option == NULL || is_reserved(key)) {
			bus_set_err(err, errlen, "%s: unknown key \"%s\"%s", path, key,
				    option ? " (not for a file)" : " (not an option)");
			ret = -1;
		} else if (option->has_arg == no_argument)
			ret = add_flag(out, path, key, value, err, errlen);
		else
			ret = add_valued(out, path, key, value, err, errlen);
		if (ret < 0)
			break;
	}
	json_decref(root);
	if (ret < 0) {
		config_args_free(out);
		if (eal)
			config_args_free(eal);
	}
	return ret;
}

void config_args_free(struct config_args *args)
{
	for (int i = 0; i < args->argc; i++)
		free(args->argv[i]);
	free(args->argv);
	*args = (struct config_args){0};
}

int config_file_find(int argc, char *const argv[], int first, const char **path, int *width)
{
	int found = -1;
	for (int i = first; i < argc; i++) {
		const char *arg = argv[i];
		int this_width;
		const char *value;
		if (strcmp(arg, "--config") == 0) {
			if (i + 1 >= argc)
				return -3;
			value = argv[i + 1];
			this_width = 2;
		} else if (strncmp(arg, "--config=", 9) == 0) {
			value = arg + 9;
			this_width = 1;
		} else {
			continue;
		}
		if (found >= 0)
			return -2;
		found = i;
		*path = value;
		*width = this_width;
		i += this_width - 1;
	}
	return found;
}

int config_file_merge(int argc, char **argv, const struct option *options,
		      struct config_merged *out, char *err, size_t errlen)
{
	*out = (struct config_merged){0};
	const char *path = NULL;
	int width = 0;
	int at = config_file_find(argc, argv, 1, &path, &width);
	if (at < -1) {
		snprintf(err, errlen, "%s",
			 at == -2 ? "--config given twice" : "--config needs a FILE");
		return -1;
	}
	if (at >= 0) {
		char file_err[512];
		if (config_file_load(path, options, &out->file, NULL, file_err, sizeof(file_err)) <
		    0) {
			snprintf(err, errlen, "--config %s", file_err);
			return -1;
		}
	}
	out->argv = calloc((size_t)argc + (size_t)out->file.argc + 1, sizeof(*out->argv));
	if (!out->argv) {
		config_args_free(&out->file);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	out->argv[out->argc++] = argv[0];
	for (int i = 0; i < out->file.argc; i++)
		out->argv[out->argc++] = out->file.argv[i];
	for (int i = 1; i < argc; i++)
		if (at < 0 || i < at || i >= at + width)
			out->argv[out->argc++] = argv[i];
	out->argv[out->argc] = NULL;
	return 0;
}

void config_merged_free(struct config_merged *merged)
{
	config_args_free(&merged->file);
	free(merged->argv);
	*merged = (struct config_merged){0};
}
