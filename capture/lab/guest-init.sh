#!/bin/sh
# /init of the lab's guest initramfs (busybox). Loads the virtio modules, mounts the second disk
# (/dev/vdb, ext2, made by the lab on the host) on /out and runs /out/lab.sh, whose output goes to
# /out/lab-guest.log. Then powers off. With "iolineage.probe" on the kernel command line it only
# reports that the guest booted (the lab's KVM probe).
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
for m in $(cat /modules/order); do insmod "/modules/$m.ko" || echo "init: insmod $m failed"; done
mount -t tracefs nodev /sys/kernel/tracing 2>/dev/null
if grep -q iolineage.probe /proc/cmdline; then
  echo "@@iolineage-probe-ok $(uname -r)"
  poweroff -f
fi
i=0
while [ ! -e /sys/block/vdb ] && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
mkdir -p /out /mnt/data
if mount -t ext2 /dev/vdb /out; then
  echo "@@iolineage-start $(uname -r)"
  sh /out/lab.sh > /out/lab-guest.log 2>&1
  echo "@@iolineage-exit $?"
  sync
  umount /out
else
  echo "@@iolineage-exit no-out-disk"
fi
echo "@@iolineage-done"
poweroff -f
