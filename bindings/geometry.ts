/** Types of the native geometry module (native/geometry_binding.cc). */
// eslint-disable-next-line @typescript-eslint/no-empty-interface
export interface GeometryExports {}
