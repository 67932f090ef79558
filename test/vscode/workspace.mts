import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A workspace a user might have: a C++ folder, a Python folder, a file to select from; a Git repository with one commit (for Compare with Previous Version). */
export function makeWorkspace(): string {
  const ws = mkdtempSync(path.join(os.tmpdir(), 'lp-ws-'));
  mkdirSync(path.join(ws, 'cpp'));
  mkdirSync(path.join(ws, 'python'));
  writeFileSync(path.join(ws, 'cpp', 'vector_sum.cpp'), '#include <vector>\n\nint sum(const std::vector<int>& v) {\n  int s = 0;\n  for (int x : v) s += x;\n  return s;\n}\n');
  writeFileSync(path.join(ws, 'cpp', 'point.h'), 'struct Point {\n  double x, y;\n  double norm() const;\n};\n');
  writeFileSync(path.join(ws, 'cpp', 'main.cpp'), '#include <iostream>\nint main() {\n  std::cout << "hello" << std::endl;\n  return 0;\n}\n');
  writeFileSync(path.join(ws, 'python', 'fib.py'), 'def fib(n):\n    a, b = 0, 1\n    for _ in range(n):\n        a, b = b, a + b\n    return a\n\nprint(fib(10))\n');
  writeFileSync(path.join(ws, 'python', 'greet.py'), 'import sys\n\ndef greet(name: str) -> str:\n    return f"hello {name}"\n\nif __name__ == "__main__":\n    print(greet(sys.argv[1]))\n');
  writeFileSync(path.join(ws, 'area.py'), 'def area(w, h):\n    return w * h\n');
  const git = (...args: string[]) => execFileSync('git', ['-c', 'user.email=test@example.com', '-c', 'user.name=test', '-c', 'init.defaultBranch=main', ...args], { cwd: ws });
  git('init', '-q');
  git('add', '.');
  git('commit', '-qm', 'first');
  // Changed since the commit: renamed parameters and a line more.
  writeFileSync(path.join(ws, 'area.py'), 'def area(width, height):\n    assert width >= 0\n    return width * height\n');
  return ws;
}

