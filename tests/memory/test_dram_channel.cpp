// DramChannel against a brute-force oracle: a map of every busy cycle.
// A reference issued at t waits until the first t' >= t such that
// [t', t' + busy) holds no busy cycle, then takes those cycles — whatever
// order the references arrive in (issue 14, item 3).
#include <catch2/catch.hpp>

#include <cstdint>
#include <random>
#include <set>

#include "models/memory/dram_channel.hpp"

using rmpsim::memory::DramChannel;

namespace {
struct Oracle {
  std::uint64_t busy;
  std::set<std::uint64_t> taken;
  std::uint64_t reserve(std::uint64_t now) {
    if (busy == 0) return 0;
    std::uint64_t s = now;
    for (;;) {
      std::uint64_t c = s;
      while (c < s + busy && !taken.count(c)) ++c;
      if (c == s + busy) break;
      s = c + 1;
    }
    for (std::uint64_t c = s; c < s + busy; ++c) taken.insert(c);
    return s - now;
  }
};
}  // namespace

TEST_CASE("dram channel: references in time order queue behind each other", "[memory]") {
  DramChannel ch(5);
  CHECK(ch.reserve(100) == 0);
  CHECK(ch.reserve(100) == 5);
  CHECK(ch.reserve(101) == 9);
  CHECK(ch.reserve(200) == 0);
}

TEST_CASE("dram channel: a reference from the past does not wait for the future",
          "[memory][reliability]") {
  // Another vCPU, a quantum ahead, booked the channel at cycle 900000; a
  // reference issued at 1000 finds it free (the old "next free" mark made
  // it wait 899000 cycles).
  DramChannel ch(5);
  CHECK(ch.reserve(900000) == 0);
  CHECK(ch.reserve(1000) == 0);
  CHECK(ch.reserve(899997) == 8);  // overlaps the booking at 900000: waits until 900005
}

TEST_CASE("dram channel: a zero busy time never queues", "[memory][reliability]") {
  DramChannel ch(0);
  for (std::uint64_t t : {5u, 5u, 3u, 100u, 1u}) CHECK(ch.reserve(t) == 0);
}

TEST_CASE("dram channel: equals the busy-cycle oracle for out-of-order references",
          "[memory][reliability]") {
  for (std::uint64_t busy : {1u, 2u, 5u, 13u}) {
    std::mt19937_64 rng(busy);
    DramChannel ch(busy);
    Oracle oracle{busy, {}};
    std::uint64_t clock = 0;
    for (int i = 0; i < 3000; ++i) {
      // Time moves on, but each reference may come from a vCPU up to 300
      // cycles behind (temporal decoupling); bursts make them overlap.
      clock += rng() % 4;
      const std::uint64_t t = clock > 300 ? clock - rng() % 300 : clock;
      INFO("busy " << busy << ", reference " << i << " at " << t);
      REQUIRE(ch.reserve(t) == oracle.reserve(t));
    }
  }
}

TEST_CASE("dram channel: dropping old reservations changes no wait", "[memory][reliability]") {
  // Time runs far past kLookbehind, so the channel drops stretches (and
  // compacts what it keeps) all along; references still come up to 300
  // cycles late, and no reference ever waits for a dropped one.
  for (std::uint64_t busy : {3u, 40u}) {
    std::mt19937_64 rng(busy + 100);
    DramChannel ch(busy);
    Oracle oracle{busy, {}};
    std::uint64_t clock = 0;
    for (int i = 0; i < 3500; ++i) {
      clock += rng() % 1500;
      for (int burst = 0; burst < 3; ++burst) {
        const std::uint64_t t = clock > 300 ? clock - rng() % 300 : clock;
        INFO("busy " << busy << ", reference " << i << " at " << t);
        REQUIRE(ch.reserve(t) == oracle.reserve(t));
      }
    }
    CHECK(clock > 2 * DramChannel::kLookbehind);
  }
}
