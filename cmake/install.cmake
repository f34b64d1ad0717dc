# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
# Installation: the binary (the BPF objects are embedded in it by the
# skeletons), the man page synguard(8), bash completion, the systemd unit and
# an example configuration.
#
#   cmake -S . -B build -DCMAKE_INSTALL_PREFIX=/usr && cmake --build build
#   cmake --install build                # or DESTDIR=/tmp/stage cmake --install build
#
# With the prefix /usr the configuration directory is /etc/synguard and the
# unit goes to /usr/lib/systemd/system; with /usr/local (the default),
# /usr/local/etc/synguard and /usr/local/lib/systemd/system (both searched by
# systemd). SYNGUARD_CONFDIR and SYNGUARD_SYSTEMD_UNITDIR override them.
include(GNUInstallDirs)

set(SYNGUARD_CONFDIR "${CMAKE_INSTALL_FULL_SYSCONFDIR}/synguard"
    CACHE PATH "Directory of synguard.conf (used by the systemd unit)")
set(SYNGUARD_SYSTEMD_UNITDIR "${CMAKE_INSTALL_PREFIX}/lib/systemd/system"
    CACHE PATH "Where the systemd unit is installed")
set(SYNGUARD_BASH_COMPLETIONDIR "${CMAKE_INSTALL_DATADIR}/bash-completion/completions"
    CACHE PATH "Where the bash completion is installed")

install(TARGETS synguard RUNTIME DESTINATION ${CMAKE_INSTALL_SBINDIR})
install(FILES ${CMAKE_SOURCE_DIR}/doc/synguard.8 DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
install(FILES ${CMAKE_SOURCE_DIR}/contrib/bash-completion/synguard
        DESTINATION ${SYNGUARD_BASH_COMPLETIONDIR})

# The unit names the installed binary and configuration file.
set(SYNGUARD_SBINDIR ${CMAKE_INSTALL_FULL_SBINDIR})
file(READ ${CMAKE_SOURCE_DIR}/contrib/systemd/synguard.service SYNGUARD_UNIT)
string(REPLACE "@SYNGUARD_SBINDIR@" "${SYNGUARD_SBINDIR}" SYNGUARD_UNIT "${SYNGUARD_UNIT}")
string(REPLACE "/etc/synguard" "${SYNGUARD_CONFDIR}" SYNGUARD_UNIT "${SYNGUARD_UNIT}")
file(GENERATE OUTPUT ${CMAKE_BINARY_DIR}/synguard.service CONTENT "${SYNGUARD_UNIT}")
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
             ${CMAKE_SOURCE_DIR}/contrib/systemd/synguard.service)
install(FILES ${CMAKE_BINARY_DIR}/synguard.service DESTINATION ${SYNGUARD_SYSTEMD_UNITDIR})

# The example next to where the configuration belongs, and with the docs; an
# existing synguard.conf is never touched.
install(FILES ${CMAKE_SOURCE_DIR}/contrib/synguard.conf.example
        DESTINATION ${SYNGUARD_CONFDIR} PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
install(FILES ${CMAKE_SOURCE_DIR}/contrib/synguard.conf.example DESTINATION ${CMAKE_INSTALL_DOCDIR})
