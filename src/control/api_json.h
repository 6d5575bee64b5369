/* Strict JSON input for the API and --config-file, over json-c: a depth-limited parse that must
 * consume the whole text, and objects checked against a field table (every field known, of its
 * type, in range; strings without NUL and within a length). Errors are one line for the reply. */
#ifndef CKVM_CONTROL_API_JSON_H
#define CKVM_CONTROL_API_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct json_object;

#define API_JSON_DEPTH	8	/* nesting of objects/arrays; deeper input is refused */

enum jf_type { JF_STRING, JF_BOOL, JF_U64, JF_IGNORE_NULL /* only null is accepted */,
	       JF_OBJECT /* a nested object, checked by the caller */ };

struct jfield {
	const char *name;
	enum jf_type type;
	bool required;
	void *out;		/* JF_STRING: char[max_len + 1]; JF_BOOL: bool; JF_U64: uint64_t;
				 * JF_OBJECT: struct json_object * (borrowed from obj) */
	size_t max_len;		/* JF_STRING: longest accepted */
	uint64_t min, max;	/* JF_U64 */
	bool *present;		/* set to whether the field was given (not null); may be NULL */
};

/* Parse text (len bytes, need not be NUL-terminated) into *out (json_object_put() it). 0, or
 * -EINVAL with a message in err. */
int api_json_parse(const char *text, size_t len, struct json_object **out, char *err, size_t errlen);
/* Check obj against fields[0..n): a field not in the table, a wrong type, a number out of range,
 * a missing required field are errors naming the field; what names the object in messages. A
 * null value counts as absent. 0 or -EINVAL. */
int api_json_fields(struct json_object *obj, const char *what, const struct jfield *f, int n,
		    char *err, size_t errlen);

#endif
