"""The official Jupyter kernel conformance suite (jupyter_kernel_test) run against the dropout-lab kernel.

Every test of the suite is enabled. Run by test/kernel/conformance.test.ts with JUPYTER_PATH pointing at a
freshly installed kernelspec; by hand: JUPYTER_PATH=<prefix>/share/jupyter /usr/bin/python3 -m unittest -v
"""

import unittest

import jupyter_kernel_test

# A 1x1 PNG, shown through display(), which recognises PNG bytes.
PNG_1X1 = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


class DropoutLabKernelTests(jupyter_kernel_test.KernelTests):
    kernel_name = "dropout-lab"
    language_name = "typescript"
    file_extension = ".ts"

    code_hello_world = 'console.log("hello, world")'
    code_stderr = 'console.error("to stderr")'

    completion_samples = [
        {"text": "const zebraStripes = 3;\nzebraStr", "matches": {"zebraStripes"}},
        {"text": "Math.hyp", "matches": {"hypot"}},
    ]

    complete_code_samples = ["1 + 1", "const x = 1;", 'console.log("hi")', "function f() {\n  return 1;\n}"]
    incomplete_code_samples = ["function f() {", "const a = [1,", "if (true) {\n  console.log(1);"]
    invalid_code_samples = ["const = 5;", "1 +* 2", "}"]

    code_page_something = "help(Math.max)"

    code_generate_error = 'throw new Error("boom")'

    code_execute_result = [
        {"code": "1 + 2 + 3", "result": "6"},
        {"code": "[1, 2, 3].map((x) => x * 2)", "result": "[ 2, 4, 6 ]"},
        {"code": '"con" + "cat"', "result": "'concat'"},
    ]
    code_history_pattern = "1 + 2*"
    supported_history_operations = ("tail", "range", "search")

    code_display_data = [
        {"code": "display(html`<b>bold</b>`)", "mime": "text/html"},
        {"code": 'display(svg`<svg xmlns="http://www.w3.org/2000/svg" width="4" height="4"></svg>`)', "mime": "image/svg+xml"},
        {"code": f'display(Buffer.from("{PNG_1X1}", "base64"))', "mime": "image/png"},
    ]

    code_inspect_sample = "Math.max"

    code_clear_output = "clearOutput()"


if __name__ == "__main__":
    unittest.main()
