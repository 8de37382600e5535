// Catch2 v2 (Debian's catch2 package): the runner of the native unit tests.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>
