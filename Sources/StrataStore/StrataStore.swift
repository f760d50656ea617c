// StrataStore
