# Debian packages of rmpsim (issue 18, item 3; docs/ci.md): `cpack -G DEB`
# in the build directory writes
#   rmpsim_VERSION_ARCH.deb      the tool, its docs, sample traces, scenarios
#                                and their expected summaries (component runtime)
#   rmpsim-dev_VERSION_ARCH.deb  the model libraries, headers and CMake package
#                                (component dev; docs/embedding.md)
# The runtime package's Depends come from dpkg-shlibdeps over the binary: the
# Debian packages of exactly the shared libraries it links (libsystemc,
# libfmt, libzstd, liblzma, zlib, libstdc++, libc). The dev package needs
# the -dev packages whose headers and CMake files its own headers and
# rmpsimConfig.cmake use.
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME rmpsim)
set(CPACK_PACKAGE_VENDOR "rmpsim")
# The Maintainer field: the project's commit identity unless whoever builds
# the package names themselves (-DRMPSIM_DEB_MAINTAINER="Name <mail>").
set(RMPSIM_DEB_MAINTAINER
    "rmpsim maintainers <maintainers@users.noreply.r-seed-c66fb8c9.example>"
    CACHE STRING "Maintainer field of the Debian packages")
set(CPACK_PACKAGE_CONTACT "${RMPSIM_DEB_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "cycle-level simulator of AMD SEV-SNP memory protection")
set(CPACK_PACKAGE_DESCRIPTION
    "rmpsim replays traces of guest memory accesses through SystemC/TLM-2.0 models of \
the TLBs, the nested page walker, the cache hierarchy, the RMP and a KVM-like hypervisor, \
and reports walk costs, faults, exits and private<->shared conversion latency.")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)

set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL runtime dev)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION science)

set(CPACK_DEBIAN_RUNTIME_PACKAGE_NAME rmpsim)
set(CPACK_DEBIAN_RUNTIME_PACKAGE_SHLIBDEPS ON)

set(CPACK_DEBIAN_DEV_PACKAGE_NAME rmpsim-dev)
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION libdevel)
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS
    "rmpsim (= ${PROJECT_VERSION}), cmake (>= 3.20), pkg-config, libsystemc-dev, libfmt-dev, \
nlohmann-json3-dev, libzstd-dev, liblzma-dev, zlib1g-dev")
set(CPACK_COMPONENT_DEV_DESCRIPTION
    "rmpsim's SystemC/TLM-2.0 models as static libraries with headers and a CMake package: \
find_package(rmpsim) and link rmpsim::models to put the MMU, nested walker, RMP and \
hypervisor models in a SystemC platform of your own.")
set(CPACK_COMPONENT_RUNTIME_DESCRIPTION "${CPACK_PACKAGE_DESCRIPTION}")

include(CPack)
