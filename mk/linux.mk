# The Linux guest (docs/linux-guest.md): Debian's cloud kernel, unmodified, and an
# initramfs made from busybox-static with tests/linux/init. Included by the top Makefile.
LINUX_DIR := $(BUILD)/linux
LINUX_STAMP := $(LINUX_DIR)/stamp
LINUX_KERNEL := $(LINUX_DIR)/bzImage
LINUX_INITRD := $(LINUX_DIR)/initramfs.gz

$(LINUX_STAMP): tools/fetch-linux.sh
	@echo "  FETCH   Linux guest (apt-get download)"
	@tools/fetch-linux.sh $(LINUX_DIR)

$(LINUX_KERNEL): $(LINUX_STAMP)

$(LINUX_INITRD): $(LINUX_STAMP) tools/mkinitramfs.sh tests/linux/init tests/linux/workload
	@echo "  INITRD  $@"
	@tools/mkinitramfs.sh $@ $(LINUX_DIR)/busybox $(LINUX_DIR)/msr.ko tests/linux/init tests/linux/workload

.PHONY: linux-guest
linux-guest: $(LINUX_KERNEL) $(LINUX_INITRD)
