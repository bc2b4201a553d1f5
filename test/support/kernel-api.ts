/** The kernel API (`sup/kernel`) for scripts a test writes outside the checkout, where that specifier does not resolve. */
export * from "sup/kernel";
