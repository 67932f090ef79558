/**
 * Training text for the generated tokenizer's merges: a little C++, Python and English, so that
 * code in tests splits into plausible multi-byte tokens rather than single bytes.
 */
export const MERGE_CORPUS = `
#include <vector>
#include <string>
#include <iostream>

namespace util {
template <typename T>
class Buffer {
 public:
  explicit Buffer(std::size_t size) : data_(size) {}
  const T& operator[](std::size_t index) const { return data_[index]; }
  std::size_t size() const noexcept { return data_.size(); }
 private:
  std::vector<T> data_;
};
}  // namespace util

int main(int argc, char** argv) {
  std::vector<int> values{1, 2, 3};
  for (const auto& value : values) {
    std::cout << "value: " << value << std::endl;
  }
  return 0;
}

import os
import sys
from typing import List, Optional

class Reader:
    """Reads lines from a file and returns them without trailing newlines."""

    def __init__(self, path: str, encoding: str = "utf-8") -> None:
        self.path = path
        self.encoding = encoding

    def read_lines(self) -> List[str]:
        with open(self.path, encoding=self.encoding) as handle:
            return [line.rstrip("\\n") for line in handle]

def main(argv: Optional[List[str]] = None) -> int:
    args = argv if argv is not None else sys.argv[1:]
    for name in args:
        if os.path.exists(name):
            print(f"{name}: {len(Reader(name).read_lines())} lines")
    return 0

if __name__ == "__main__":
    raise SystemExit(main())

The quick brown fox jumps over the lazy dog. A transformer layer reads the residual stream,
computes attention and a feed-forward update, and writes the result back to the stream.
Each layer changes the stream a little; some layers change it much more than others.
`;
