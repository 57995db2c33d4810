"""AppFlow's AWS neighbours: one small port per service AppFlow talks to, each with its embedded,
moto and endpoint variants (``s3``, ``secrets``, ``lambdas``), and the one place that picks the
variant (``neighbours``). Nothing here knows AppFlow: these modules import nothing else of the
package, and every layer above may use them.
"""
