// Carrier translation unit for the shared LibTorch precompiled header (see cmake/GroveDependencies.cmake).
