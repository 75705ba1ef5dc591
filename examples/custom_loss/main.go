// Command custom_loss is bench with one more loss, CenterContrastiveLoss,
// which pytorch-metric-learning does not have: how a researcher adds a
// component to bench from their own main.go. Run it as bench:
//
//	go run ./examples/custom_loss run --experiment_name cc \
//	    --root_config_folder examples/custom_loss/configs \
//	    --config_loss_and_miners default center_contrastive
package main

import (
	"github.com/bench-ml/bench/cli"
	"github.com/bench-ml/bench/component"
)

func main() {
	register()
	cli.Main()
}

// register adds this program's components; before cli.Main, so that every
// command, and every job a launcher starts, knows them.
func register() {
	component.Losses.Register("CenterContrastiveLoss", newCenterContrastive)
}
