"""The package's version, in a module of its own: modules that need it import it from here, not from the
package, so importing the package's public API never loops back into them."""

__version__ = "0.1.0"
