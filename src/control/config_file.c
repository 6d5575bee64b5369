/* --config-file FILE: Firecracker's JSON configuration (swagger FullVmConfiguration: boot-source,
 * drives, machine-config, network-interfaces, logger, metrics, balloon, vsock, entropy), read
 * through the same functions the API's requests use, then built like InstanceStart. Main thread,
 * before the API thread runs. */
#include "control/api_int.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "control/api_json.h"

#define CONFIG_FILE_MAX (1 << 20)	/* far more than 8 drives and 4 NICs need */

static int read_all(const char *path, char **out, size_t *len, char *err, size_t errlen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	ssize_t n;
	char *buf;

	if (fd < 0)
		return config_fail(err, errlen, "%s", strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > CONFIG_FILE_MAX) {
		close(fd);
		return config_fail(err, errlen, "not a regular file of at most %d bytes", CONFIG_FILE_MAX);
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return config_fail(err, errlen, "out of memory");
	}
	n = read(fd, buf, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size) {
		free(buf);
		return config_fail(err, errlen, "short read");
	}
	buf[n] = '\0';
	*out = buf;
	*len = (size_t)n;
	return 0;
}

/* An array section: each element through fn (drives, network-interfaces). */
static int each(struct api *a, struct json_object *arr, const char *what,
		int (*fn)(struct vmconf *, const char *, struct json_object *, char *, size_t),
		char *err, size_t errlen)
{
	size_t i, n;
	int ret;

	if (!json_object_is_type(arr, json_type_array))
		return config_fail(err, errlen, "%s: expected an array", what);
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++)
		if ((ret = fn(&a->vc, NULL, json_object_array_get_idx(arr, i), err, errlen)))
			return ret;
	return 0;
}

static int sections(struct api *a, struct json_object *top, char *err, size_t errlen)
{
	struct json_object *v;
	int ret;

	if (!json_object_is_type(top, json_type_object))
		return config_fail(err, errlen, "expected a JSON object");
	json_object_object_foreach(top, key, val) {
		(void)val;
		if (strcmp(key, "boot-source") && strcmp(key, "drives") && strcmp(key, "machine-config") &&
		    strcmp(key, "network-interfaces") && strcmp(key, "logger") && strcmp(key, "metrics") &&
		    strcmp(key, "balloon") && strcmp(key, "vsock") && strcmp(key, "entropy"))
			return config_fail(err, errlen, "unknown or unsupported section '%.64s'", key);
	}
	/* Outputs first: their files are then known when the inputs are checked against them. */
	if (json_object_object_get_ex(top, "logger", &v) && v &&
	    (ret = api_logger_put(a, v, err, errlen)))
		return ret;
	if (json_object_object_get_ex(top, "metrics", &v) && v &&
	    (ret = api_metrics_put(a, v, err, errlen)))
		return ret;
	if (!json_object_object_get_ex(top, "boot-source", &v) || !v)
		return config_fail(err, errlen, "missing section 'boot-source'");
	if ((ret = vmconf_boot_source(&a->vc, v, err, errlen)))
		return ret;
	if (json_object_object_get_ex(top, "machine-config", &v) && v &&
	    (ret = vmconf_machine(&a->vc, v, false, err, errlen)))
		return ret;
	if (json_object_object_get_ex(top, "drives", &v) && v &&
	    (ret = each(a, v, "drives", vmconf_drive, err, errlen)))
		return ret;
	if (json_object_object_get_ex(top, "network-interfaces", &v) && v &&
	    (ret = each(a, v, "network-interfaces", vmconf_nic, err, errlen)))
		return ret;
	if ((json_object_object_get_ex(top, "balloon", &v) && v &&
	     (ret = vmconf_balloon(&a->vc, v, err, errlen))) ||
	    (json_object_object_get_ex(top, "vsock", &v) && v &&
	     (ret = vmconf_vsock(&a->vc, v, err, errlen))) ||
	    (json_object_object_get_ex(top, "entropy", &v) && v &&
	     (ret = vmconf_entropy(&a->vc, v, err, errlen))))
		return ret;
	if ((ret = vmconf_build(&a->vc, &a->cfg, err, errlen)))
		return ret;
	return api_outputs_check(a, &a->cfg, err, errlen);
}

int api_config_file_load(struct api *a, const char *path, char *err, size_t errlen)
{
	struct json_object *top;
	size_t len = 0;
	char *text = NULL;
	int ret;

	if ((ret = read_all(path, &text, &len, err, errlen)))
		return ret;
	ret = api_json_parse(text, len, &top, err, errlen);
	free(text);
	if (ret)
		return ret;
	ret = sections(a, top, err, errlen);
	json_object_put(top);
	return ret;
}
