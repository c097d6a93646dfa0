#pragma once
// What `run --check` throws when the models break an invariant
// (models/check/checker.hpp); main() reports it and exits 5.
#include <cstdint>
#include <stdexcept>
#include <string>

namespace rmpsim::check {

class InvariantViolation : public std::runtime_error {
 public:
  InvariantViolation(std::uint64_t cycle, const std::string& what)
      : std::runtime_error(what), m_cycle(cycle) {}
  std::uint64_t cycle() const { return m_cycle; }

 private:
  std::uint64_t m_cycle;
};

}  // namespace rmpsim::check
