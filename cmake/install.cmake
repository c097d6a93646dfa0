# `cmake --install build --prefix P` (issue 18, item 2; docs/embedding.md):
#   P/bin/rmpsim                      the tool
#   P/share/doc/rmpsim/               README.md and docs/*.md
#   P/share/rmpsim/traces/            the sample traces and the scenario library
#   P/share/rmpsim/expected/          each scenario's expected summary (for --expect)
#   P/lib/librmpsim_*.a               the model blocks and the trace library
#   P/include/rmpsim/{models,traces}/ their headers, included as "models/mmu/mmu_module.hpp"
#   P/lib/cmake/rmpsim/               the package: find_package(rmpsim), rmpsim::models
# Two install components, one Debian package each (cmake/package.cmake):
# `runtime` (the tool, docs, traces) and `dev` (libraries, headers, package).
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(RMPSIM_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/rmpsim)
set(RMPSIM_INCLUDE_DIR ${CMAKE_INSTALL_INCLUDEDIR}/rmpsim)

# The tool and what it documents and ships.
install(TARGETS rmpsim RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR} COMPONENT runtime)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR}
        COMPONENT runtime)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR}
        COMPONENT runtime FILES_MATCHING PATTERN "*.md")
# Scenarios name their traces as ../../samples/..., so the two folders keep
# their places side by side.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/traces/samples ${PROJECT_SOURCE_DIR}/traces/scenarios
        DESTINATION ${CMAKE_INSTALL_DATADIR}/rmpsim/traces COMPONENT runtime
        PATTERN make-scenarios EXCLUDE)
install(DIRECTORY ${PROJECT_SOURCE_DIR}/tests/expected/
        DESTINATION ${CMAKE_INSTALL_DATADIR}/rmpsim/expected COMPONENT runtime)

# The libraries. Each keeps its block name in the package (rmpsim::mmu, ...);
# the schema library rmpsim_models, which links every block, is
# rmpsim::schema, and rmpsim::models is the one target users link: an
# INTERFACE library over it that also says where the headers are.
get_property(RMPSIM_BLOCKS GLOBAL PROPERTY RMPSIM_BLOCKS)  # every rmpsim_block()
set(RMPSIM_EXPORTED rmpsim_traces rmpsim_stats rmpsim_models)
foreach(block ${RMPSIM_BLOCKS})
  list(APPEND RMPSIM_EXPORTED rmpsim_${block})
  set_target_properties(rmpsim_${block} PROPERTIES EXPORT_NAME ${block})
endforeach()
set_target_properties(rmpsim_traces PROPERTIES EXPORT_NAME traces)
set_target_properties(rmpsim_stats PROPERTIES EXPORT_NAME stats)
set_target_properties(rmpsim_models PROPERTIES EXPORT_NAME schema)

add_library(rmpsim_package INTERFACE)
set_target_properties(rmpsim_package PROPERTIES EXPORT_NAME models)
target_link_libraries(rmpsim_package INTERFACE rmpsim_models)
target_include_directories(rmpsim_package INTERFACE $<INSTALL_INTERFACE:${RMPSIM_INCLUDE_DIR}>)
# The libraries of a sanitizer build (RMPSIM_SANITIZE, scripts/test-sanitize)
# call into the sanitizer runtimes: a program linking them needs those too.
if(RMPSIM_SANITIZE)
  target_link_options(rmpsim_package INTERFACE -fsanitize=address,undefined)
endif()

# Release builds use LTO (CMakeLists.txt). GCC's default slim LTO objects
# hold only GCC's intermediate code, which another compiler, or another GCC
# version, cannot link. The exported archives are built of fat LTO objects
# instead: machine code beside the intermediate code. rmpsim's own link
# still optimises across the blocks from the intermediate code (the same
# binary code, results and instruction counts), and a project that links
# the installed archives without LTO, or with clang, uses the machine code.
# (Shared libraries would cost the tool its cross-block inlining; a second,
# non-LTO set of libraries would double the build.)
if(CMAKE_INTERPROCEDURAL_OPTIMIZATION AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  foreach(lib ${RMPSIM_EXPORTED})
    target_compile_options(${lib} PRIVATE -ffat-lto-objects)
  endforeach()
endif()

install(TARGETS ${RMPSIM_EXPORTED} rmpsim_package EXPORT rmpsimTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR} COMPONENT dev)
install(EXPORT rmpsimTargets NAMESPACE rmpsim:: DESTINATION ${RMPSIM_CMAKE_DIR} COMPONENT dev)

# Headers: every block's and the trace library's (the guest's include
# traces/event.hpp), under their source paths.
install(DIRECTORY ${PROJECT_SOURCE_DIR}/models/ DESTINATION ${RMPSIM_INCLUDE_DIR}/models
        COMPONENT dev FILES_MATCHING PATTERN "*.hpp")
install(DIRECTORY ${PROJECT_SOURCE_DIR}/traces/ DESTINATION ${RMPSIM_INCLUDE_DIR}/traces
        COMPONENT dev FILES_MATCHING PATTERN "*.hpp"
        PATTERN bench EXCLUDE PATTERN samples EXCLUDE PATTERN scenarios EXCLUDE)

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/rmpsimConfig.cmake.in
  ${PROJECT_BINARY_DIR}/package/rmpsimConfig.cmake INSTALL_DESTINATION ${RMPSIM_CMAKE_DIR})
# 0.x: a minor version may change the API.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/package/rmpsimConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/package/rmpsimConfig.cmake
              ${PROJECT_BINARY_DIR}/package/rmpsimConfigVersion.cmake
        DESTINATION ${RMPSIM_CMAKE_DIR} COMPONENT dev)
