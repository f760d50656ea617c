import CCLD2
