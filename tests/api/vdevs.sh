# Sourced by tests/api/run.sh: Firecracker's PUT /vsock, PUT /entropy and PUT /balloon before boot
# (good and bad bodies, refused once the VM runs), and --config-file with "balloon", "vsock" and
# "entropy" objects. The pcilist guest prints PCI bus 0: the devices must be there as the guest
# finds them (virtio 1.2 §4.1.2.1 device ids 0x1040 + type: entropy 4, balloon 5, vsock 19).

# saw_vdevs: the guest listed the rng, vsock and balloon functions on $work/out
saw_vdevs() {
	wait_serial "$work/out" PCI-END || { bad "no PCI-END from the guest"; return; }
	local d missing=
	for d in 1af4:1044 1af4:1053 1af4:1045; do grep -q " $d\$" "$work/out" || missing="$missing $d"; done
	[ -z "$missing" ] && ok "$(grep -c '^PCI [0-9a-f]' "$work/out") functions" ||
		bad "missing$missing: $(grep '^PCI' "$work/out" | tr '\n' ' ')"
}

echo "--- PUT /vsock, /entropy, /balloon (pre-boot)"
VS=$work/v.sock
T=vdevs-wait; start --api-sock "$S" && ok || bad "no socket"
T=vsock-cid-low; api PUT /vsock "{\"guest_cid\":2,\"uds_path\":\"$VS\"}"; expect 400 'guest_cid 2 is out of range'
T=vsock-cid-high; api PUT /vsock "{\"guest_cid\":4294967295,\"uds_path\":\"$VS\"}"; expect 400 'out of range'
T=vsock-no-path; api PUT /vsock '{"guest_cid":3}'; expect 400 "missing field 'uds_path'"
T=vsock-unknown; api PUT /vsock "{\"guest_cid\":3,\"uds_path\":\"$VS\",\"port\":1}"; expect 400 "unknown field 'port'"
T=vsock-long-path; api PUT /vsock "{\"guest_cid\":3,\"uds_path\":\"/tmp/$(head -c 100 /dev/zero | tr '\0' a)\"}"
expect 400 'uds_path must have 1 to'
T=vsock-empty-path; api PUT /vsock '{"guest_cid":3,"uds_path":""}'; expect 400 'uds_path must have 1 to'
T=vsock-bad-id; api PUT /vsock "{\"vsock_id\":\"a/b\",\"guest_cid\":3,\"uds_path\":\"$VS\"}"; expect 400 "id 'a/b'"
T=vsock-cid-string; api PUT /vsock "{\"guest_cid\":\"3\",\"uds_path\":\"$VS\"}"; expect 400 'guest_cid must be a whole number'
T=vsock-good; api PUT /vsock "{\"vsock_id\":\"vsock0\",\"guest_cid\":3,\"uds_path\":\"$VS\"}"; expect 204
T=vsock-again; api PUT /vsock "{\"vsock_id\":\"vsock0\",\"guest_cid\":7,\"uds_path\":\"$VS\"}"; expect 204
T=entropy-ops; api PUT /entropy '{"rate_limiter":{"ops":{"size":10,"refill_time":100}}}'
expect 400 'ops rate limit is not supported'
T=entropy-burst; api PUT /entropy '{"rate_limiter":{"bandwidth":{"size":10,"one_time_burst":5,"refill_time":100}}}'
expect 400 'one_time_burst is not supported'
T=entropy-slow; api PUT /entropy '{"rate_limiter":{"bandwidth":{"size":1,"refill_time":10000}}}'
expect 400 'under 1 byte per second'
T=entropy-no-refill; api PUT /entropy '{"rate_limiter":{"bandwidth":{"size":10}}}'; expect 400 "missing field 'refill_time'"
T=entropy-not-object; api PUT /entropy '{"rate_limiter":5}'; expect 400 'rate_limiter must be an object'
T=entropy-unknown; api PUT /entropy '{"rate_limit":{}}'; expect 400 "unknown field 'rate_limit'"
T=entropy-nested-unknown; api PUT /entropy '{"rate_limiter":{"bandwidth":{"size":1,"refill_time":1,"x":0}}}'
expect 400 "unknown field 'x'"
T=entropy-good; api PUT /entropy '{"rate_limiter":{"bandwidth":{"size":4096,"refill_time":100}}}'; expect 204
T=balloon-unknown; api PUT /balloon '{"amount_mib":1,"deflate_on_oom":true,"size":1}'; expect 400 "unknown field 'size'"
T=balloon-good; api PUT /balloon '{"amount_mib":4,"deflate_on_oom":true,"stats_polling_interval_s":2}'; expect 204
T=vdevs-preboot-config; api GET /vm/config
expect 200 '"balloon":\{"amount_mib":4,.*"vsock":\{"vsock_id":"vsock0","guest_cid":7,.*"entropy":\{"rate_limiter":\{"bandwidth":\{"size":4096,"refill_time":100\}'
T=vdevs-start; api PUT /boot-source "{\"kernel_image_path\":\"$gdir/pcilist.elf\"}" &&
	api PUT /machine-config '{"vcpu_count":1,"mem_size_mib":32}' && api PUT /actions '{"action_type":"InstanceStart"}'
expect 204
T=vdevs-guest-sees; saw_vdevs
T=vsock-after-boot; api PUT /vsock "{\"guest_cid\":3,\"uds_path\":\"$VS\"}"; expect 400 'PUT /vsock is a pre-boot call'
T=entropy-after-boot; api PUT /entropy '{}'; expect 400 'PUT /entropy is a pre-boot call'
T=balloon-put-after-boot; api PUT /balloon '{"amount_mib":1,"deflate_on_oom":false}'; expect 400 'pre-boot call'
T=vdevs-exit; kill -TERM "$vmpid"; stopped 0

echo "--- --config-file with balloon, vsock and entropy"
cat > "$work/vdevs.json" <<JSON
{ "boot-source": { "kernel_image_path": "$gdir/pcilist.elf" },
  "machine-config": { "vcpu_count": 1, "mem_size_mib": 32 },
  "balloon": { "amount_mib": 2, "deflate_on_oom": false },
  "vsock": { "guest_cid": 5, "uds_path": "$VS" },
  "entropy": {} }
JSON
T=config-file-vdevs; start --config-file "$work/vdevs.json" --api-sock "$S" && saw_vdevs || bad "no socket"
T=config-file-vdevs-config; api GET /vm/config
expect 200 '"balloon":\{"amount_mib":2,"deflate_on_oom":false,"stats_polling_interval_s":0\},"vsock":\{"guest_cid":5,"uds_path":"[^"]*v.sock"\},"entropy":\{\}'
T=config-file-vdevs-closed; api PUT /entropy '{}'; expect 400 'pre-boot call'
kill -TERM "$vmpid"; T=config-file-vdevs-exit; stopped 0
T=config-file-vdevs-bad; sed 's/"entropy": {}/"entropy": { "rate_limiter": { "ops": { "size": 1, "refill_time": 1 } } }/' \
	"$work/vdevs.json" > "$work/bad.json"
"$ckvm" --config-file "$work/bad.json" --no-api </dev/null >/dev/null 2>"$work/err"; rc=$?
[ "$rc" -eq 1 ] && grep -q "entropy: an ops rate limit is not supported" "$work/err" && ok || bad "status $rc"
T=config-file-vsock-bad; sed 's/"guest_cid": 5/"guest_cid": 1/' "$work/vdevs.json" > "$work/bad.json"
"$ckvm" --config-file "$work/bad.json" --no-api </dev/null >/dev/null 2>"$work/err"; rc=$?
[ "$rc" -eq 1 ] && grep -q "vsock: guest_cid 1 is out of range" "$work/err" && ok || bad "status $rc"
T=config-file-balloon-big; sed 's/"amount_mib": 2/"amount_mib": 32/' "$work/vdevs.json" > "$work/bad.json"
"$ckvm" --config-file "$work/bad.json" --no-api </dev/null >/dev/null 2>"$work/err"; rc=$?
[ "$rc" -eq 1 ] && grep -q "balloon.*less than" "$work/err" && ok || bad "status $rc: $(cat "$work/err")"
