"""SFT and DPO with trl + peft: the trainers run the loop, this package wires them."""
