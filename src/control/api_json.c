/* Strict JSON reading for the API (RFC 8259 via json-c 0.16, with a nesting limit): what the
 * tokenizer accepts is checked again against each request's field table. API thread, or the main
 * thread for --config-file. */
#include "control/api_json.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "config.h"

#define SHOWN 64	/* at most this much of a client's name in a message */

int api_json_parse(const char *text, size_t len, struct json_object **out, char *err, size_t errlen)
{
	struct json_tokener *tok;
	struct json_object *obj;
	enum json_tokener_error e;
	size_t end;

	*out = NULL;
	if (!text || !len)
		return config_fail(err, errlen, "missing JSON body");
	if (len > INT32_MAX)
		return config_fail(err, errlen, "JSON body too large");
	tok = json_tokener_new_ex(API_JSON_DEPTH);
	if (!tok)
		return config_fail(err, errlen, "out of memory");
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, text, (int)len);
	e = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	if (e == json_tokener_continue)
		return config_fail(err, errlen, "malformed JSON: ends too early");
	if (e != json_tokener_success || !obj) {
		json_object_put(obj);
		return config_fail(err, errlen, "malformed JSON at byte %zu: %s", end,
				   e == json_tokener_success ? "no value" : json_tokener_error_desc(e));
	}
	for (; end < len; end++) {
		if (!strchr(" \t\r\n", text[end])) {
			json_object_put(obj);
			return config_fail(err, errlen, "malformed JSON: text after the value at byte %zu", end);
		}
	}
	*out = obj;
	return 0;
}

static const char *type_word(enum jf_type t)
{
	switch (t) {
	case JF_STRING: return "a string";
	case JF_BOOL: return "true or false";
	case JF_U64: return "a whole number";
	case JF_OBJECT: return "an object";
	default: return "null (not supported by ckvm)";
	}
}

static int field_set(const struct jfield *f, struct json_object *v, const char *what, char *err,
		     size_t errlen)
{
	enum json_type t = json_object_get_type(v);
	const char *s;
	size_t len;
	int64_t i;
	uint64_t u;

	switch (f->type) {
	case JF_STRING:
		if (t != json_type_string)
			break;
		s = json_object_get_string(v);
		len = (size_t)json_object_get_string_len(v);
		if (strlen(s) != len)
			return config_fail(err, errlen, "%s: %s contains a NUL character", what, f->name);
		if (len > f->max_len)
			return config_fail(err, errlen, "%s: %s is %zu bytes long, at most %zu are accepted",
					   what, f->name, len, f->max_len);
		memcpy(f->out, s, len + 1);
		return 0;
	case JF_BOOL:
		if (t != json_type_boolean)
			break;
		*(bool *)f->out = json_object_get_boolean(v);
		return 0;
	case JF_U64:
		if (t != json_type_int)
			break;
		/* json-c keeps integers as int64, or uint64 above INT64_MAX, saturating beyond. */
		i = json_object_get_int64(v);
		if (i < 0)
			return config_fail(err, errlen, "%s: %s must not be negative", what, f->name);
		u = json_object_get_uint64(v);
		if (u < f->min || u > f->max)
			return config_fail(err, errlen, "%s: %s %s is out of range (%llu to %llu)", what,
					   f->name, json_object_to_json_string(v), (unsigned long long)f->min,
					   (unsigned long long)f->max);
		*(uint64_t *)f->out = u;
		return 0;
	case JF_OBJECT:
		if (t != json_type_object)
			break;
		*(struct json_object **)f->out = v;
		return 0;
	case JF_IGNORE_NULL:
		break;
	}
	return config_fail(err, errlen, "%s: %s must be %s", what, f->name, type_word(f->type));
}

int api_json_fields(struct json_object *obj, const char *what, const struct jfield *f, int n,
		    char *err, size_t errlen)
{
	int i, ret;

	if (!json_object_is_type(obj, json_type_object))
		return config_fail(err, errlen, "%s: expected a JSON object", what);
	json_object_object_foreach(obj, key, val) {
		for (i = 0; i < n && strcmp(f[i].name, key); i++)
			;
		if (i == n)
			return config_fail(err, errlen, "%s: unknown field '%.*s'%s", what, SHOWN, key,
					   strlen(key) > SHOWN ? "..." : "");
		(void)val;
	}
	for (i = 0; i < n; i++) {
		struct json_object *v = NULL;
		bool given = json_object_object_get_ex(obj, f[i].name, &v) && v;

		if (f[i].present)
			*f[i].present = given;
		if (!given) {
			if (f[i].required)
				return config_fail(err, errlen, "%s: missing field '%s'", what, f[i].name);
			continue;
		}
		if ((ret = field_set(&f[i], v, what, err, errlen)))
			return ret;
	}
	return 0;
}
