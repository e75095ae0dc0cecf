#!/bin/sh
echo "svc start $(date +%s.%N) uid=$(id -u)" >>"$SNAP_COMMON/order.log"
env | sort >"$SNAP_COMMON/svc.env"
trap 'echo "svc term $(date +%s.%N)" >>"$SNAP_COMMON/order.log"; exit 0' TERM
while :; do sleep 1; done
