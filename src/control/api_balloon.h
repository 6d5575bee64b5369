/* Firecracker's balloon calls (api_balloon.c), registered in api_routes.c's table: PUT /balloon
 * (pre-boot), PATCH /balloon and PATCH /balloon/statistics (running VM), GET /balloon, GET
 * /balloon/statistics. API thread, a->lock held. */
#ifndef CKVM_CONTROL_API_BALLOON_H
#define CKVM_CONTROL_API_BALLOON_H

struct api;
struct api_reply;
struct json_object;

void api_put_balloon(struct api *a, const char *id, struct json_object *body, struct api_reply *rep);
void api_patch_balloon(struct api *a, const char *id, struct json_object *body, struct api_reply *rep);
void api_get_balloon(struct api *a, const char *id, struct json_object *body, struct api_reply *rep);
void api_get_balloon_stats(struct api *a, const char *id, struct json_object *body, struct api_reply *rep);
void api_patch_balloon_stats(struct api *a, const char *id, struct json_object *body,
			     struct api_reply *rep);

#endif
