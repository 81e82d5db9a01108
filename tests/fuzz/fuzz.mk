# libFuzzer targets for the management API's parsers (not part of `make test`).
#   make fuzz                  builds both and runs each for FUZZ_TIME seconds
#   make fuzz FUZZ_TIME=600    longer
# Usable on its own too: make -f tests/fuzz/fuzz.mk fuzz
# Corpora stay in $(BUILD)/fuzz/corpus_*; crashes land in $(BUILD)/fuzz/.

BUILD ?= build
FUZZ_CC ?= clang
FUZZ_TIME ?= 30
# Inputs up to a whole request at the parser's limits (8 KiB head + 64 KiB body) and a bit more,
# so the 414/431/413 paths are reached; libFuzzer's default stops at 4 KiB.
FUZZ_MAX_LEN ?= 81920
FUZZ_CFLAGS := -std=c11 -g -O1 -Wall -Wextra -Werror -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all -I.
FUZZ_TARGETS := fuzz_http fuzz_api
FUZZ_SRCS_fuzz_http := tests/fuzz/fuzz_http.c net/api/http.c kernel/lib/err.c
FUZZ_SRCS_fuzz_api := tests/fuzz/fuzz_api.c net/api/api.c net/api/api_body.c net/api/api_link.c net/api/http.c kernel/lib/err.c kernel/lib/parse.c \
	kernel/lib/strbuf.c kernel/lib/uuid.c

$(BUILD)/fuzz/fuzz_http: $(FUZZ_SRCS_fuzz_http) net/api/http.h tests/fuzz/fuzz.mk
	@command -v $(FUZZ_CC) >/dev/null || { echo "fuzz: $(FUZZ_CC) not found (Debian package clang)" >&2; exit 1; }
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $(filter %.c,$^)

$(BUILD)/fuzz/fuzz_api: $(FUZZ_SRCS_fuzz_api) net/api/api.h net/api/http.h tests/fuzz/fuzz.mk
	@command -v $(FUZZ_CC) >/dev/null || { echo "fuzz: $(FUZZ_CC) not found (Debian package clang)" >&2; exit 1; }
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $(filter %.c,$^)

# Seeds: a few valid requests, so the fuzzer starts past the request line.
# fuzz_http's first byte is the delivery chunk size; fuzz_api's picks the endpoint.
$(BUILD)/fuzz/corpus_http/.seeded:
	@mkdir -p $(@D)
	@printf '\000GET /api/v1/vm.info HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer x\r\n\r\n' > $(@D)/get
	@printf '\007PUT /a HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}GET / HTTP/1.0\r\n\r\n' > $(@D)/pipe
	@printf '\001POST / HTTP/1.1\r\nhost: h\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n' > $(@D)/te
	@touch $@

$(BUILD)/fuzz/corpus_api/.seeded:
	@mkdir -p $(@D)
	@printf '\000{"percent": 50}' > $(@D)/pct
	@printf '\000{"vcpu": 1, "percent": 20}' > $(@D)/vcpu
	@printf '\000{"dirty_limit": 1000}' > $(@D)/dirty
	@printf '\001{"destination":"10.0.0.2:6000","connections":4,"downtime_ms":300,"bandwidth":0,"max_throttle":90,"timeout_ms":1000,"on_timeout":"force"}' > $(@D)/send
	@printf '\002{"listen":"0.0.0.0:6000","connections":2}' > $(@D)/recv
	@printf '\003{}' > $(@D)/cancel
	@printf '\200PUT /api/v1/vm.throttle HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer fuzz-token\r\nContent-Length: 13\r\n\r\n{"percent":1}' > $(@D)/raw
	@touch $@

# Seeds at the limits: a request line past the 8 KiB head, a body of exactly 64 KiB.
$(BUILD)/fuzz/corpus_http/.seeded_limits:
	@mkdir -p $(@D)
	@{ printf '\000GET /'; head -c 8300 /dev/zero | tr '\000' a; printf ' HTTP/1.1\r\nHost: h\r\n\r\n'; } > $(@D)/long_target
	@{ printf '\020PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 65536\r\n\r\n'; head -c 65536 /dev/zero | tr '\000' x; } > $(@D)/big_body
	@touch $@

$(BUILD)/fuzz/corpus_api/.seeded_limits:
	@mkdir -p $(@D)
	@{ printf '\200PUT /api/v1/vm.throttle HTTP/1.1\r\nHost: h\r\nAuthorization: Bearer fuzz-token\r\nContent-Length: 65536\r\n\r\n{"percent":1'; \
	   head -c 65523 /dev/zero | tr '\000' ' '; printf '}'; } > $(@D)/big_body
	@touch $@

.PHONY: fuzz
fuzz: $(addprefix $(BUILD)/fuzz/,$(FUZZ_TARGETS)) $(BUILD)/fuzz/corpus_http/.seeded $(BUILD)/fuzz/corpus_api/.seeded \
	$(BUILD)/fuzz/corpus_http/.seeded_limits $(BUILD)/fuzz/corpus_api/.seeded_limits
	@set -e; for t in $(FUZZ_TARGETS); do \
		c=$(BUILD)/fuzz/corpus_$${t#fuzz_}; \
		echo "fuzz: $$t for $(FUZZ_TIME) s"; \
		$(BUILD)/fuzz/$$t -max_total_time=$(FUZZ_TIME) -max_len=$(FUZZ_MAX_LEN) -print_final_stats=1 \
			-artifact_prefix=$(BUILD)/fuzz/$$t- $$c 2>&1 | grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units|==[0-9]+==ERROR|SUMMARY)' || true; \
		test -z "$$(ls $(BUILD)/fuzz/$$t-crash-* $(BUILD)/fuzz/$$t-leak-* $(BUILD)/fuzz/$$t-timeout-* 2>/dev/null)" || \
			{ echo "fuzz: $$t found a failing input (see $(BUILD)/fuzz/$$t-*)" >&2; exit 1; }; \
	done

# The migration stream's decoder (docs/migration-stream.md).
FUZZ_TARGETS += fuzz_migr_decoder
FUZZ_SRCS_fuzz_migr_decoder := tests/fuzz/fuzz_migr_decoder.c migration/codec.c migration/prof.c migration/mac.c kernel/lib/err.c

$(BUILD)/fuzz/fuzz_migr_decoder: $(FUZZ_SRCS_fuzz_migr_decoder) migration/codec.h migration/stream.h tests/fuzz/fuzz.mk
	@command -v $(FUZZ_CC) >/dev/null || { echo "fuzz: $(FUZZ_CC) not found (Debian package clang)" >&2; exit 1; }
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $(filter %.c,$^)

# Seeds: a keyed data stream with PASS_END, and a control stream with HELLO.
$(BUILD)/fuzz/corpus_migr_decoder/.seeded:
	@mkdir -p $(@D)
	@printf '\005\000FERRYMIG\001\000\000\000\000\000\000\000\010\000\000\000\020\000\000\000\001\000\000\000\000\000\000\000\007\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000\000' > $(@D)/pass_end
	@{ printf '\000\003FERRYMIG\001\000\000\000\000\000\000\000\001\000\000\000\110\000\000\000\001\000\000\000\000\000\377\177'; \
	   head -c 80 /dev/zero; } > $(@D)/hello
	@touch $@

fuzz: $(BUILD)/fuzz/corpus_migr_decoder/.seeded
