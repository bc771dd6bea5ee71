# Front door: thin wrappers over CMake. See README.md.
#   make demo   install what is missing, build, run the pipeline on samples/, show it
#   make test   build and run every test suite (ctest)
#   make asan   the same under ASan+UBSan
#   make bench  benchmarks (tests/bench), results in tests/bench/RESULTS.md
#   make fuzz   libFuzzer for FUZZ_SECONDS per target (clang)
#   make install PREFIX=/usr/local

PREFIX      ?= /usr/local
BUILD       ?= build
ASAN_BUILD  ?= build-asan
FUZZ_BUILD  ?= build-fuzz
FUZZ_SECONDS ?= 60
JOBS        ?= $(shell nproc 2>/dev/null || echo 2)
CMAKE_FLAGS ?=
DEMO_DB     ?= $(BUILD)/demo.db

# Debian packages the build and the test suites need (scripts/deps.sh checks them).
DEPS = build-essential cmake pkg-config libsqlite3-dev libjansson-dev libncurses-dev \
       libpcap-dev zlib1g-dev libzstd-dev liblz4-dev libmosquitto-dev librabbitmq-dev \
       librdkafka-dev libnats-dev sqlite3 tmux tcpdump mosquitto mosquitto-clients \
       amqp-tools nats-server rabbitmq-server kafkacat python3 clang libclang-rt-14-dev time tshark \
       openssl libssl-dev

.PHONY: all deps build test asan bench fuzz demo install clean

all: build

deps:
	@DEPS="$(DEPS)" sh scripts/deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DES_BUILD_TESTS=ON $(CMAKE_FLAGS) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

asan: deps
	cmake -S . -B $(ASAN_BUILD) -DES_BUILD_TESTS=ON -DCMAKE_BUILD_TYPE=Debug \
	    -DES_SANITIZERS="address;undefined" $(CMAKE_FLAGS)
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j $(JOBS)

bench: build
	bash tests/bench/run.sh $(BUILD)

fuzz: deps
	CC=clang cmake -S . -B $(FUZZ_BUILD) -DES_BUILD_TESTS=ON -DES_FUZZERS=ON \
	    -DES_SANITIZERS="address;undefined" -DCMAKE_BUILD_TYPE=Debug
	cmake --build $(FUZZ_BUILD) -j $(JOBS)
	bash tests/fuzz/run.sh $(FUZZ_BUILD) $(FUZZ_SECONDS)

demo: build
	bash samples/demo.sh $(BUILD)/eventscope $(DEMO_DB)

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
