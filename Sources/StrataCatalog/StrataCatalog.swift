// StrataCatalog
