# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Installation: binary, man page, completion, systemd unit.
install(TARGETS synguard RUNTIME DESTINATION sbin)
