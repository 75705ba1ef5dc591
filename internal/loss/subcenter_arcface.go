package loss

import "github.com/bench-ml/bench/internal/config"

// newSubCenterArcFace is PML's SubCenterArcFaceLoss: ArcFace with
// sub_centers columns of W per class, a class's cosine being the largest of
// its sub-centres', so that a class's outliers can gather round a
// sub-centre of their own instead of pulling on the dominant one.
func newSubCenterArcFace(p *config.Params) Loss {
	modify := arcFaceMargin(p)
	subCenters := p.Int("sub_centers", 3, config.Min(1))
	return newLargeMargin(p, 64, largeMarginForm{modify: modify, subCenters: subCenters})
}
