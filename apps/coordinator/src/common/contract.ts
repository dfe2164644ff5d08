/**
 * Compile-time agreement between the REST contract (libs/api, pure, so it cannot import the domain) and
 * the domain's own lists: `Assert<Same<A, B>>` does not compile while A and B differ in either direction.
 */
export type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
export type Assert<T extends true> = T;
