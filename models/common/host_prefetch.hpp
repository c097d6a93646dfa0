#pragma once
// Asks the host CPU to bring the cache line holding `p` into its caches.
// A host-speed hint only: it changes no simulated state.
//
// Why not __builtin_prefetch alone: GCC 12 at -O1 and above deletes some
// calls of it as dead code (seen on addresses computed from a std::vector's
// data() and an index inside a const member function: the whole
// LineCache::prefetch() compiled to a bare `ret`). An asm statement is
// never deleted. Other compilers and targets keep the builtin.
namespace rmpsim {

__attribute__((always_inline)) inline void host_prefetch(const void* p) {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__))
  asm volatile("prefetcht0 %0" : : "m"(*static_cast<const char*>(p)));
#else
  __builtin_prefetch(p);
#endif
}

}  // namespace rmpsim
