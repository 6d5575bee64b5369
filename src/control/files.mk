# The control plane (issue 8): HTTP API server, pre-boot configuration, --config-file, outputs, client.
SRCS += src/control/http.c src/control/api.c src/control/api_conn.c src/control/api_routes.c src/control/api_json.c
SRCS += src/control/vmconf.c src/control/api_output.c src/control/config_file.c
SRCS += src/control/api_cli.c src/control/ctl.c
SRCS += src/control/api_snapshot.c
SRCS += src/control/api_migrate.c
SRCS += src/control/api_balloon.c
SRCS += src/control/vmconf_vdevs.c
