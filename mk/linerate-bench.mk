# The line-rate benchmark's harness: the delay relay. Included by the top Makefile.

RELAY := $(BUILD)/tools/relay
RELAY_SRCS := tools/relay/relay.c tools/relay/relay_conn.c tools/relay/line.c tools/relay/delayq.c
$(RELAY): $(RELAY_SRCS) $(wildcard tools/relay/*.h)
	@mkdir -p $(@D)
	@echo "  HOSTCC  $@"
	@gcc -std=c11 -O2 -g -Wall -Wextra -Werror $(filter-out -Wmissing-declarations,$(HV_WARNINGS)) -I. -pthread \
		-o $@ $(RELAY_SRCS)

system-test: $(RELAY)
