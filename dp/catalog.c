/* SPDX-License-Identifier: BSD-3-Clause */
/* catalog.c - service catalog parsing (see catalog.h). */
#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "catalog.h"
#include "onvm_limits.h"

static int fail(char *err, size_t errlen, const char *format, ...)
{
	va_list args;
	va_start(args, format);
	vsnprintf(err, errlen, format, args);
	va_end(args);
	return -1;
}

static int check_keys(json_t *entry, unsigned index, char *err, size_t errlen)
{
	static const char *const known[] = {"id", "name", "exec", "args", "cores", "warm"};
	const char *key;
	json_t *value;
	json_object_foreach(entry, key, value)
	{
		int found = 0;
		for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
			found |= strcmp(key, known[i]) == 0;
		if (!found)
			return fail(err, errlen, "services[%u]: unknown key \"%s\"", index, key);
	}
	return 0;
}

static int parse_args(json_t *args, struct catalog_service *service, unsigned index, char *err,
		      size_t errlen)
{
	if (args == NULL)
		return 0;
	if (!json_is_array(args))
		return fail(err, errlen, "services[%u].args: must be an array of strings", index);
	if (json_array_size(args) > CATALOG_MAX_ARGS)
		return fail(err, errlen, "services[%u].args: more than %d arguments", index,
			    CATALOG_MAX_ARGS);
	size_t i;
	json_t *arg;
	json_array_foreach(args, i, arg)
	{
		if (!json_is_string(arg))
			return fail(err, errlen, "services[%u].args[%zu]: must be a string", index,
				    i);
		service->args[i] = strdup(json_string_value(arg));
		if (service->args[i] == NULL)
			return fail(err, errlen, "out of memory");
		service->nb_args = (unsigned)i + 1;
	}
	return 0;
}

static int parse_exec(const char *exec, const char *base_dir, struct catalog_service *service,
		      unsigned index, char *err, size_t errlen)
{
	if (*exec == '\0')
		return fail(err, errlen, "services[%u].exec: must not be empty", index);
	int written;
	if (exec[0] == '/' || base_dir == NULL || *base_dir == '\0')
		written = snprintf(service->exec, sizeof(service->exec), "%s", exec);
	else
		written = snprintf(service->exec, sizeof(service->exec), "%s/%s", base_dir, exec);
	if (written < 0 || (size_t)written >= sizeof(service->exec))
		return fail(err, errlen, "services[%u].exec: path too long", index);
	return 0;
}

/* An optional integer field in min..max, def when absent. */
static int parse_small_int(json_t *entry, const char *key, unsigned def, unsigned min, unsigned max,
			   unsigned *value, unsigned index, char *err, size_t errlen)
{
	json_t *field = json_object_get(entry, key);
	*value = def;
	if (field == NULL)
		return 0;
	if (!json_is_integer(field) || json_integer_value(field) < (json_int_t)min ||
	    json_integer_value(field) > (json_int_t)max)
		return fail(err, errlen, "services[%u].%s: must be an integer %u..%u", index, key,
			    min, max);
	*value = (unsigned)json_integer_value(field);
	return 0;
}

static int parse_service(json_t *entry, unsigned index, const char *base_dir,
			 struct catalog *catalog, char *err, size_t errlen)
{
	struct catalog_service *service = &catalog->services[index];

	if (!json_is_object(entry))
		return fail(err, errlen, "services[%u]: must be an object", index);
	if (check_keys(entry, index, err, errlen) < 0)
		return -1;

	json_t *id = json_object_get(entry, "id");
	if (!json_is_integer(id))
		return fail(err, errlen, "services[%u].id: missing or not an integer", index);
	json_int_t id_value = json_integer_value(id);
	if (id_value < 1 || id_value >= ONVM_MAX_SERVICES)
		return fail(err, errlen, "services[%u].id: %lld out of range 1..%d", index,
			    (long long)id_value, ONVM_MAX_SERVICES - 1);
	service->id = (uint16_t)id_value;
	if (catalog_find(catalog, service->id) != service)
		return fail(err, errlen, "services[%u].id: service %u listed twice", index,
			    service->id);

	json_t *name = json_object_get(entry, "name");
	if (!json_is_string(name) || json_string_length(name) == 0 ||
	    json_string_length(name) >= CATALOG_NAME_LEN)
		return fail(err, errlen, "services[%u].name: missing, empty or over %d chars",
			    index, CATALOG_NAME_LEN - 1);
	snprintf(service->name, sizeof(service->name), "%s", json_string_value(name));

	json_t *exec = json_object_get(entry, "exec");
	if (!json_is_string(exec))
		return fail(err, errlen, "services[%u].exec: missing or not a string", index);
	if (parse_exec(json_string_value(exec), base_dir, service, index, err, errlen) < 0)
		return -1;

	if (parse_small_int(entry, "cores", 1, 1, 8, &service->cores, index, err, errlen) < 0 ||
	    parse_small_int(entry, "warm", 0, 0, CATALOG_MAX_WARM, &service->warm, index, err,
			    errlen) < 0)
		return -1;
	return parse_args(json_object_get(entry, "args"), service, index, err, errlen);
}

int catalog_parse(const char *text, const char *base_dir, struct catalog *catalog, char *err,
		  size_t errlen)
{
	json_error_t json_error;
	int ret = -1;

	memset(catalog, 0, sizeof(*catalog));
	json_t *root = json_loads(text, JSON_REJECT_DUPLICATES, &json_error);
	if (root == NULL)
		return fail(err, errlen, "not valid JSON (line %d column %d): %s", json_error.line,
			    json_error.column, json_error.text);

	json_t *services = json_object_get(root, "services");
	if (!json_is_object(root) || !json_is_array(services)) {
		fail(err, errlen, "the top level must be an object with a \"services\" array");
		goto out;
	}
	if (json_array_size(services) > CATALOG_MAX_SERVICES) {
		fail(err, errlen, "more than %d services", CATALOG_MAX_SERVICES);
		goto out;
	}
	size_t index;
	json_t *entry;
	json_array_foreach(services, index, entry)
	{
		catalog->count = (unsigned)index + 1;
		if (parse_service(entry, (unsigned)index, base_dir, catalog, err, errlen) < 0)
			goto out;
	}
	ret = 0;
out:
	json_decref(root);
	if (ret < 0)
		catalog_free(catalog);
	return ret;
}

int catalog_load(const char *path, struct catalog *catalog, char *err, size_t errlen)
{
	memset(catalog, 0, sizeof(*catalog));
	FILE *file = fopen(path, "r");
	if (file == NULL)
		return fail(err, errlen, "cannot open catalog %s: %s", path, strerror(errno));

	char *text = NULL;
	size_t size = 0;
	FILE *buffer = open_memstream(&text, &size);
	char chunk[4096];
	size_t got;
	while (buffer && (got = fread(chunk, 1, sizeof(chunk), file)) > 0)
		fwrite(chunk, 1, got, buffer);
	int read_failed = ferror(file);
	fclose(file);
	if (buffer == NULL || fclose(buffer) != 0 || read_failed) {
		free(text);
		return fail(err, errlen, "cannot read catalog %s", path);
	}

	char *path_copy = strdup(path);
	char message[256];
	int ret = catalog_parse(text, path_copy ? dirname(path_copy) : ".", catalog, message,
				sizeof(message));
	if (ret < 0)
		fail(err, errlen, "catalog %s: %s", path, message);
	free(path_copy);
	free(text);
	return ret;
}

int catalog_check_programs(const struct catalog *catalog, char *err, size_t errlen)
{
	for (unsigned i = 0; i < catalog->count; i++) {
		const struct catalog_service *service = &catalog->services[i];
		struct stat info;
		if (stat(service->exec, &info) != 0 || access(service->exec, X_OK) != 0)
			return fail(err, errlen, "service %u (%s): program %s: %s", service->id,
				    service->name, service->exec, strerror(errno));
		if (!S_ISREG(info.st_mode))
			return fail(err, errlen, "service %u (%s): program %s is not a file",
				    service->id, service->name, service->exec);
	}
	return 0;
}

const struct catalog_service *catalog_find(const struct catalog *catalog, uint16_t id)
{
	for (unsigned i = 0; i < catalog->count; i++)
		if (catalog->services[i].id == id)
			return &catalog->services[i];
	return NULL;
}

void catalog_free(struct catalog *catalog)
{
	for (unsigned i = 0; i < catalog->count; i++)
		for (unsigned arg = 0; arg < catalog->services[i].nb_args; arg++)
			free(catalog->services[i].args[arg]);
	memset(catalog, 0, sizeof(*catalog));
}
